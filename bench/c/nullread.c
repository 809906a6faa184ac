/*
 * The C peer of panaio's low-level loop (the bench engine "c-loop").
 *
 * It makes the same system calls as the harness's panaio engine, in the same
 * order: every free request slot is prepared and sent, at most BATCH per
 * io_submit,
 * completions are taken from the ring the kernel maps at the context address
 * (tail loaded with acquire, head stored with release), and only when the ring
 * is empty does the loop block in io_getevents(min_nr = 1). A second thread
 * keeps the clock, as the Java harness does: a warm-up, then the measured
 * window. Latency is taken from just before io_submit to when the completion
 * is seen (in handoff mode, from the handler's queueing of the request to its
 * taking the completion). Like the harness's panaio loop, it also times each
 * batch's io_submit (the submit stall), so both loops read the clock as often.
 *
 * It exists for nullread (buffered reads of /dev/zero), where the cost of a
 * request is all that is measured, and runs the file workloads too.
 *
 * With MODE handoff (the bench engine "c-handoff") it is the shape of
 * panaio's asynchronous channel instead, in C: an engine thread (this one)
 * submits and reaps, sleeping in a blocking read of an eventfd that the kernel
 * signals per completion (IOCB_FLAG_RESFD) and the other thread signals when
 * it finds this one asleep; it passes each reap's completions to a handler
 * thread, waking it if it sleeps, and the handler thread records each
 * completion and queues the slot's next request back, waking the engine
 * thread if it sleeps. Every request so crosses between two threads twice, as
 * one through a CompletionHandler on a pool thread does, with nothing else of
 * the JVM's or panaio's in the way: what that shape costs on this machine.
 *
 * With MODE wake (the bench engine "c-wake") it is the shape of panaio's
 * blocking channel when its engine is idle, in C: QD caller threads, each
 * submitting its own request with io_submit, as a caller that takes the idle
 * engine's offer does, then sleeping on a futex of its own until the engine
 * thread (this one), which sleeps in io_getevents, takes the completion and
 * wakes it. Each request so costs a wake-up of the engine thread by the
 * kernel and one of the caller by the engine thread, where a thread blocked in
 * pread(2) is woken once: what keeping the caller out of the wait for the
 * device costs on this machine. Latency and the submit stall are taken by the
 * caller: from before its io_submit to its waking, and its io_submit's time.
 *
 * usage: nullread WORKLOAD FILE FILE_SIZE BS QD DIRECT WARMUP_S SECONDS [BATCH [MODE]]
 *   WORKLOAD  randread | randwrite | seqread | nullread
 *   BATCH     most requests per io_submit (default 2: a call of more than 2 plugs the block
 *             queue until all of it is prepared; QD sends every free slot at once)
 *   MODE      loop (default) | handoff | wake
 * Prints one JSON object on one line, with the harness's keys, and the process's run-queue wait
 * and thread runs over the window (/proc/self/task/N/schedstat), as the harness gives for the JVM's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The ring header, private to the kernel's fs/aio.c: no installed header declares it. */
struct ring_header {
    unsigned id;
    unsigned nr;
    unsigned head;
    unsigned tail;
    unsigned magic;
    unsigned compat_features;
    unsigned incompat_features;
    unsigned header_length;
};
#define RING_MAGIC 0xa10a10a1u

enum { WARMUP, MEASURE, STOP };
static int phase = WARMUP; /* written by the clock thread, read by the loop: atomics */

/* Latency histogram: exact below 256 ns, then 128 buckets per power of two (under 1% error). */
#define SUB_BITS 7
#define SUB_COUNT (1 << SUB_BITS)
#define BUCKETS (64 * SUB_COUNT)
static uint64_t histogram[BUCKETS];
static uint64_t measured_ops;
/* The time each batch spent in io_submit, as the harness records it for panaio. */
static uint64_t submit_histogram[BUCKETS];
static uint64_t submit_count;
static uint64_t submit_max;

static unsigned bucket_of(uint64_t v) {
    if (v < 2 * SUB_COUNT) {
        return (unsigned) v;
    }
    unsigned shift = (63 - __builtin_clzll(v)) - SUB_BITS;
    return shift * SUB_COUNT + (unsigned) (v >> shift);
}

static double bucket_middle(unsigned b) {
    if (b < 2 * SUB_COUNT) {
        return b;
    }
    unsigned shift = b / SUB_COUNT - 1;
    uint64_t low = (uint64_t) (b - shift * SUB_COUNT) << shift;
    return low + ((1ull << shift) - 1) / 2.0;
}

static double percentile_ns(const uint64_t *counts, uint64_t total, double pct) {
    uint64_t want = (uint64_t) (total * pct / 100.0 + 0.5);
    if (want == 0) {
        want = 1;
    }
    uint64_t seen = 0;
    for (unsigned b = 0; b < BUCKETS; b++) {
        seen += counts[b];
        if (seen >= want) {
            return bucket_middle(b);
        }
    }
    return 0;
}

static uint64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* The engine's name, for messages: c-loop, c-handoff or c-wake, after the mode. */
static const char *engine_name = "c-loop";

static void die(const char *what) {
    fprintf(stderr, "%s: %s: %s\n", engine_name, what, strerror(errno));
    exit(1);
}

/* One reading of each thread's run-queue wait (ns) and runs (times put on a CPU), from schedstat. */
#define MAX_TASKS 300 /* wake mode: a thread per request slot, and two more: qd 298 at most */
struct sched_sample {
    int count; /* -1 where the kernel gives none */
    long tid[MAX_TASKS];
    long long wait[MAX_TASKS], runs[MAX_TASKS];
};

static void sched_sample(struct sched_sample *s) {
    s->count = -1;
    DIR *tasks = opendir("/proc/self/task");
    if (tasks == NULL) {
        return;
    }
    int n = 0;
    struct dirent *task;
    while ((task = readdir(tasks)) != NULL && n < MAX_TASKS) {
        if (task->d_name[0] == '.') {
            continue;
        }
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", task->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        long long on_cpu;
        if (fscanf(f, "%lld %lld %lld", &on_cpu, &s->wait[n], &s->runs[n]) == 3) {
            s->tid[n++] = atol(task->d_name);
        }
        fclose(f);
    }
    closedir(tasks);
    if (n > 0) {
        s->count = n;
    }
}

/* What the threads alive at the end did since the start, each paired by its id (one that was not there counts from 0). */
static void sched_delta(const struct sched_sample *start, const struct sched_sample *end, long long *wait,
                        long long *runs) {
    *wait = -1;
    *runs = -1;
    if (start->count < 0 || end->count < 0) {
        return;
    }
    *wait = 0;
    *runs = 0;
    for (int i = 0; i < end->count; i++) {
        long long wait0 = 0, runs0 = 0;
        for (int j = 0; j < start->count; j++) {
            if (start->tid[j] == end->tid[i]) {
                wait0 = start->wait[j];
                runs0 = start->runs[j];
            }
        }
        *wait += end->wait[i] - wait0;
        *runs += end->runs[i] - runs0;
    }
}

struct window {
    double warmup_s, seconds;
    uint64_t wall0, wall1, cpu0, cpu1;
    struct sched_sample sched0, sched1;
};

/* Set by the clock thread once it has read the window's end: the handoff and wake modes' threads live until then. */
static int window_read;

static void sleep_s(double s) {
    struct timespec ts = {(time_t) s, (long) ((s - (time_t) s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The clock thread: sleeps through the warm-up, then the window, taking wall and CPU time at its edges. */
static void *keep_time(void *arg) {
    struct window *w = arg;
    sleep_s(w->warmup_s);
    sched_sample(&w->sched0);
    w->cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    w->wall0 = now_ns(CLOCK_MONOTONIC);
    __atomic_store_n(&phase, MEASURE, __ATOMIC_RELEASE);
    sleep_s(w->seconds);
    __atomic_store_n(&phase, STOP, __ATOMIC_RELEASE);
    w->wall1 = now_ns(CLOCK_MONOTONIC);
    w->cpu1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    sched_sample(&w->sched1); /* before the loop's threads end */
    __atomic_store_n(&window_read, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Per slot offsets: random blocks (xorshift64*), or a sequential stretch of the file per slot. */
struct stream {
    int random;
    uint64_t state, bs, blocks, first, stretch, next;
    uint64_t next_offset_value; /* handoff: the offset the handler chose for the slot's next request */
};

static uint64_t next_offset(struct stream *s) {
    if (s->random) {
        s->state ^= s->state >> 12;
        s->state ^= s->state << 25;
        s->state ^= s->state >> 27;
        return ((s->state * 0x2545F4914F6CDD1Dull) % s->blocks) * s->bs;
    }
    uint64_t block = s->first + s->next;
    s->next = s->next + 1 == s->stretch ? 0 : s->next + 1;
    return block * s->bs;
}

/* The loop's state. */
static aio_context_t ctx;
static struct ring_header *ring;
static struct io_event *ring_events;
static struct io_event *events;
static int *free_slots;
static int free_count;
static uint64_t *submitted;
static long in_flight;
static long long expected;

/* What every mode shares: the file, the buffers and iocbs, each slot's offsets. */
static int fd;
static int writes;
static uint64_t bs;
static unsigned char *buffers;
static struct iocb *iocbs;
static struct iocb **batch;
static int *batch_slots;
static struct stream *streams;
static int max_batch;

/* Records a request's latency (in the window) and checks its result; returns the time it read. */
static uint64_t record(int slot, long long res) {
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    if (res != expected) {
        fprintf(stderr, "%s: a request completed with %lld instead of %lld bytes%s%s\n", engine_name, res, expected,
                res < 0 ? ": " : "", res < 0 ? strerror((int) -res) : "");
        exit(1);
    }
    if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == MEASURE) {
        histogram[bucket_of(now - submitted[slot])]++;
        measured_ops++;
    }
    return now;
}

static void complete_to_handler(uint64_t data, long long res);
/* Set once, before the loop starts: which of the two a completion means. */
static int handoff_mode;

/*
 * What a completion means: recorded and its slot freed (the loop), or handed
 * to the handler thread. A branch the CPU predicts, not a call through a
 * pointer, so that the loop mode, the floor panaio is measured against, pays
 * nothing for the other.
 */
static inline void complete(uint64_t data, long long res) {
    if (handoff_mode) {
        complete_to_handler(data, res);
        return;
    }
    int slot = (int) data;
    record(slot, res);
    free_slots[free_count++] = slot;
    in_flight--;
}

/* Completions available now, from the ring in user space; io_getevents(0) if the ring is not one we know. */
static long reap(void) {
    if (ring == NULL) {
        long n = syscall(SYS_io_getevents, ctx, 0, in_flight, events, NULL);
        if (n < 0) {
            die("io_getevents");
        }
        for (long i = 0; i < n; i++) {
            complete(events[i].data, events[i].res);
        }
        return n;
    }
    unsigned nr = ring->nr;
    unsigned head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
    unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE); /* pairs with the kernel's barrier */
    long n = 0;
    while (head != tail) {
        uint64_t data = ring_events[head].data;
        long long res = ring_events[head].res;
        head = head + 1 == nr ? 0 : head + 1;
        __atomic_store_n(&ring->head, head, __ATOMIC_RELEASE); /* the slot is the kernel's again */
        complete(data, res);
        n++;
    }
    return n;
}

static long await_one(void) {
    long n;
    do {
        n = syscall(SYS_io_getevents, ctx, 1, in_flight, events, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        die("io_getevents");
    }
    for (long i = 0; i < n; i++) {
        complete(events[i].data, events[i].res);
    }
    return n;
}

/* Writes slot's iocb for the read or write at offset; resfd >= 0 makes the kernel signal that eventfd. */
static struct iocb *prepare(int slot, uint64_t offset, int resfd) {
    struct iocb *cb = &iocbs[slot];
    memset(cb, 0, sizeof *cb);
    cb->aio_data = (uint64_t) slot;
    cb->aio_lio_opcode = writes ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
    cb->aio_fildes = (uint32_t) fd;
    cb->aio_buf = (uint64_t) (uintptr_t) (buffers + (uint64_t) slot * bs);
    cb->aio_nbytes = bs;
    cb->aio_offset = (int64_t) offset;
    if (resfd >= 0) {
        cb->aio_flags = IOCB_FLAG_RESFD;
        cb->aio_resfd = (uint32_t) resfd;
    }
    return cb;
}

/* Submits batch[0..n), all of it: the kernel may take only part of a batch. */
static void submit_all(int n) {
    int done = 0;
    while (done < n) {
        long ret = syscall(SYS_io_submit, ctx, (long) (n - done), batch + done);
        if (ret > 0) {
            done += (int) ret;
            in_flight += ret;
        } else if (ret < 0 && errno == EINTR) {
            continue;
        } else if (ret < 0 && errno == EAGAIN && in_flight > 0) {
            if (reap() == 0) {
                await_one();
            }
        } else {
            die("io_submit");
        }
    }
}

/* The submit stall: how long a batch's io_submit (or the hand-off of a request) took, in the window. */
static void record_stall(uint64_t since) {
    if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == MEASURE) {
        uint64_t stall = now_ns(CLOCK_MONOTONIC) - since;
        submit_histogram[bucket_of(stall)]++;
        submit_count++;
        submit_max = stall > submit_max ? stall : submit_max;
    }
}

/* The panaio engine's loop: every free slot goes out, then the ring is reaped, io_getevents only when empty. */
static void run_loop(void) {
    for (;;) {
        if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != STOP) {
            /* Every free slot goes out now, in batches of at most max_batch per io_submit. */
            while (free_count > 0) {
                int n = 0;
                while (free_count > 0 && n < max_batch) {
                    int slot = free_slots[--free_count];
                    batch[n] = prepare(slot, next_offset(&streams[slot]), -1);
                    batch_slots[n++] = slot;
                }
                uint64_t t = now_ns(CLOCK_MONOTONIC);
                for (int i = 0; i < n; i++) {
                    submitted[batch_slots[i]] = t;
                }
                submit_all(n);
                record_stall(t);
            }
        } else if (in_flight == 0) {
            break;
        }
        if (reap() == 0 && in_flight > 0) {
            await_one();
        }
    }
}

/*
 * Handoff mode. Two single-producer, single-consumer queues of slots join
 * the threads: requests to submit (handler to engine) and completions
 * (engine to handler). Each thread sleeps in a blocking read of its own
 * eventfd, with a flag saying so; the other signals it once per sleep, as
 * panaio's EngineLoop and its handlers' pool do.
 */
struct queue {
    int *slots;
    long long *results;
    unsigned mask;
    unsigned long head __attribute__((aligned(64))); /* the consumer's */
    unsigned long tail __attribute__((aligned(64))); /* the producer's */
};

static void queue_init(struct queue *q, int capacity) {
    unsigned size = 1;
    while (size < (unsigned) capacity) {
        size <<= 1;
    }
    q->slots = calloc(size, sizeof *q->slots);
    q->results = calloc(size, sizeof *q->results);
    q->mask = size - 1;
    q->head = 0;
    q->tail = 0;
}

/* Never full: a slot is in at most one queue at a time, and each holds every slot. */
static void queue_push(struct queue *q, int slot, long long result) {
    unsigned long t = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
    q->slots[t & q->mask] = slot;
    q->results[t & q->mask] = result;
    __atomic_store_n(&q->tail, t + 1, __ATOMIC_RELEASE);
}

static int queue_pop(struct queue *q, int *slot, long long *result) {
    unsigned long h = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
    if (h == __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE)) {
        return 0;
    }
    *slot = q->slots[h & q->mask];
    *result = q->results[h & q->mask];
    __atomic_store_n(&q->head, h + 1, __ATOMIC_RELEASE);
    return 1;
}

static int queue_empty(struct queue *q) {
    return __atomic_load_n(&q->head, __ATOMIC_RELAXED) == __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
}

/* A thread that sleeps in read(2) of its eventfd, and is signalled once per sleep. */
struct sleeper {
    int efd;
    int sleeping;
    int signalled;
};

static void sleeper_signal(struct sleeper *s) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* what was queued is visible before the flag is read */
    if (__atomic_load_n(&s->sleeping, __ATOMIC_SEQ_CST)
            && !__atomic_exchange_n(&s->signalled, 1, __ATOMIC_SEQ_CST)) {
        uint64_t one = 1;
        if (write(s->efd, &one, sizeof one) != sizeof one) {
            die("write to an eventfd");
        }
    }
}

/* Sleeps unless nothing_to_do() turns false once the flag is up: then no signal can be lost. */
static void sleeper_sleep(struct sleeper *s, int (*nothing_to_do)(void)) {
    __atomic_store_n(&s->sleeping, 1, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (nothing_to_do()) {
        uint64_t count;
        while (read(s->efd, &count, sizeof count) < 0) {
            if (errno != EINTR) {
                die("read of an eventfd");
            }
        }
    }
    __atomic_store_n(&s->sleeping, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&s->signalled, 0, __ATOMIC_SEQ_CST);
}

static struct queue to_engine, to_handler;
static struct sleeper engine, handler;
static int qd_slots;
static int retired; /* slots the handler stopped re-issuing, once the window ended: handler only until it exits */
static int handler_done;

/* The engine thread's completions go to the handler. */
static void complete_to_handler(uint64_t data, long long res) {
    queue_push(&to_handler, (int) data, res);
    in_flight--;
}

static int ring_empty(void) {
    return ring == NULL || __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE) ==
            __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
}

static int engine_idle(void) {
    /* Without a ring we know, completions are only found by io_getevents: the eventfd says when. */
    return queue_empty(&to_engine) && ring_empty() && !__atomic_load_n(&handler_done, __ATOMIC_ACQUIRE);
}

static int handler_idle(void) {
    return queue_empty(&to_handler);
}

/* The handler thread: records each completion and queues its slot's next request, until the window ends. */
static void *run_handler(void *unused) {
    (void) unused;
    for (;;) {
        int slot;
        long long res;
        int handled = 0;
        while (queue_pop(&to_handler, &slot, &res)) {
            uint64_t t = record(slot, res); /* the next request's start: two clock reads a request, as the JVM engines */
            handled++;
            if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == STOP) {
                retired++;
                continue;
            }
            streams[slot].next_offset_value = next_offset(&streams[slot]);
            submitted[slot] = t;
            queue_push(&to_engine, slot, 0);
            sleeper_signal(&engine); /* as a handler's read() does: the engine is woken once per sleep */
            record_stall(t);
        }
        if (retired == qd_slots) {
            /* It lives until the window's end is read, so that its runs are counted with the others. */
            while (!__atomic_load_n(&window_read, __ATOMIC_ACQUIRE)) {
                sleep_s(0.001);
            }
            __atomic_store_n(&handler_done, 1, __ATOMIC_RELEASE);
            uint64_t one = 1;
            if (write(engine.efd, &one, sizeof one) != sizeof one) {
                die("write to an eventfd");
            }
            return NULL;
        }
        if (handled == 0) {
            sleeper_sleep(&handler, handler_idle);
        }
    }
}

/* The engine thread: submits what the handler queued, at most max_batch per io_submit, and reaps the ring. */
static void run_handoff(void) {
    handoff_mode = 1;
    engine.efd = eventfd(0, EFD_CLOEXEC);
    handler.efd = eventfd(0, EFD_CLOEXEC);
    if (engine.efd < 0 || handler.efd < 0) {
        die("eventfd");
    }
    queue_init(&to_engine, qd_slots);
    queue_init(&to_handler, qd_slots);
    uint64_t t = now_ns(CLOCK_MONOTONIC);
    for (int slot = 0; slot < qd_slots; slot++) {
        streams[slot].next_offset_value = next_offset(&streams[slot]);
        submitted[slot] = t;
        queue_push(&to_engine, slot, 0);
    }
    pthread_t handler_thread;
    if (pthread_create(&handler_thread, NULL, run_handler, NULL) != 0) {
        fprintf(stderr, "%s: cannot start the handler thread\n", engine_name);
        exit(1);
    }
    for (;;) {
        int moved = 0, n = 0, slot;
        long long unused;
        while (queue_pop(&to_engine, &slot, &unused)) {
            batch[n++] = prepare(slot, streams[slot].next_offset_value, engine.efd);
            moved++;
            if (n == max_batch) {
                submit_all(n);
                n = 0;
            }
        }
        if (n > 0) {
            submit_all(n);
        }
        if (moved > 0) {
            sleeper_signal(&handler); /* a batch the kernel took only in part made submit_all reap */
        }
        long reaped = reap();
        if (reaped > 0) {
            sleeper_signal(&handler); /* one reap's completions, one wake-up, as a batch for the pool */
        }
        if (moved > 0 || reaped > 0) {
            continue;
        }
        if (__atomic_load_n(&handler_done, __ATOMIC_ACQUIRE) && in_flight == 0) {
            break;
        }
        if (ring == NULL && in_flight > 0) {
            if (await_one() > 0) {
                sleeper_signal(&handler);
            }
            continue;
        }
        sleeper_sleep(&engine, engine_idle); /* a completion (the kernel) or the handler wakes it */
    }
    pthread_join(handler_thread, NULL);
}

/*
 * Wake mode. Each caller thread owns one request slot and a futex word: it
 * clears the word, submits, and sleeps while the word is 0; the engine thread
 * stores the result, sets the word and wakes it. Each caller counts into
 * histograms of its own, merged once every caller has ended, and its state has
 * a cache line of its own: the callers share nothing but the context.
 */
struct caller {
    int word;           /* the futex: 1 once the engine thread has stored the result */
    long long result;
    uint64_t ops, submits, submit_max;
    uint64_t *histogram, *submit_histogram;
} __attribute__((aligned(64)));

static struct caller *wake_callers;
static long wake_in_flight; /* atomics: callers add, the engine thread takes away */
static int wake_retired;    /* callers that have ended: atomics */

static void *run_caller(void *arg) {
    int slot = (int) (intptr_t) arg;
    struct caller *me = &wake_callers[slot];
    for (;;) {
        if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == STOP) {
            break;
        }
        struct iocb *cb = prepare(slot, next_offset(&streams[slot]), -1);
        __atomic_store_n(&me->word, 0, __ATOMIC_RELAXED);
        __atomic_fetch_add(&wake_in_flight, 1, __ATOMIC_RELAXED);
        uint64_t t = now_ns(CLOCK_MONOTONIC);
        long ret;
        do {
            ret = syscall(SYS_io_submit, ctx, 1L, &cb);
        } while (ret < 0 && errno == EINTR);
        if (ret < 0) {
            die("io_submit"); /* EAGAIN cannot come: the context has room for every slot's one request */
        }
        uint64_t submitted_at = now_ns(CLOCK_MONOTONIC);
        while (__atomic_load_n(&me->word, __ATOMIC_ACQUIRE) == 0) {
            syscall(SYS_futex, &me->word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        }
        uint64_t now = now_ns(CLOCK_MONOTONIC);
        long long res = me->result;
        if (res != expected) {
            fprintf(stderr, "%s: a request completed with %lld instead of %lld bytes%s%s\n", engine_name, res,
                    expected, res < 0 ? ": " : "", res < 0 ? strerror((int) -res) : "");
            exit(1);
        }
        if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == MEASURE) {
            me->histogram[bucket_of(now - t)]++;
            me->ops++;
            uint64_t stall = submitted_at - t;
            me->submit_histogram[bucket_of(stall)]++;
            me->submits++;
            me->submit_max = stall > me->submit_max ? stall : me->submit_max;
        }
    }
    /* It lives until the window's end is read, so that its runs are counted with the others. */
    while (!__atomic_load_n(&window_read, __ATOMIC_ACQUIRE)) {
        sleep_s(0.001);
    }
    __atomic_fetch_add(&wake_retired, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The engine thread: sleeps in io_getevents, and wakes each completion's caller; then merges their counts. */
static void run_wake(void) {
    wake_callers = aligned_alloc(64, sizeof *wake_callers * qd_slots);
    pthread_t *threads = calloc(qd_slots, sizeof *threads);
    if (wake_callers == NULL || threads == NULL) {
        fprintf(stderr, "%s: out of memory\n", engine_name);
        exit(1);
    }
    for (int slot = 0; slot < qd_slots; slot++) {
        memset(&wake_callers[slot], 0, sizeof wake_callers[slot]);
        wake_callers[slot].histogram = calloc(BUCKETS, sizeof(uint64_t));
        wake_callers[slot].submit_histogram = calloc(BUCKETS, sizeof(uint64_t));
        if (wake_callers[slot].histogram == NULL || wake_callers[slot].submit_histogram == NULL) {
            fprintf(stderr, "%s: out of memory\n", engine_name);
            exit(1);
        }
    }
    for (int slot = 0; slot < qd_slots; slot++) {
        if (pthread_create(&threads[slot], NULL, run_caller, (void *) (intptr_t) slot) != 0) {
            fprintf(stderr, "%s: cannot start caller thread %d\n", engine_name, slot);
            exit(1);
        }
    }
    /* A bounded wait, so that the end is seen once every caller has retired. */
    struct timespec tick = {0, 10 * 1000 * 1000};
    while (__atomic_load_n(&wake_retired, __ATOMIC_ACQUIRE) < qd_slots
            || __atomic_load_n(&wake_in_flight, __ATOMIC_ACQUIRE) > 0) {
        long n = syscall(SYS_io_getevents, ctx, 1L, (long) qd_slots, events, &tick);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            die("io_getevents");
        }
        for (long i = 0; i < n; i++) {
            struct caller *c = &wake_callers[events[i].data];
            c->result = events[i].res;
            __atomic_fetch_sub(&wake_in_flight, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&c->word, 1, __ATOMIC_RELEASE);
            syscall(SYS_futex, &c->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
    }
    for (int slot = 0; slot < qd_slots; slot++) {
        pthread_join(threads[slot], NULL);
        struct caller *c = &wake_callers[slot];
        for (unsigned b = 0; b < BUCKETS; b++) {
            histogram[b] += c->histogram[b];
            submit_histogram[b] += c->submit_histogram[b];
        }
        measured_ops += c->ops;
        submit_count += c->submits;
        submit_max = c->submit_max > submit_max ? c->submit_max : submit_max;
    }
}

int main(int argc, char **argv) {
    if (argc < 9 || argc > 11) {
        fprintf(stderr, "usage: %s WORKLOAD FILE FILE_SIZE BS QD DIRECT WARMUP_S SECONDS [BATCH [MODE]]\n", argv[0]);
        return 2;
    }
    const char *workload = argv[1];
    const char *path = argv[2];
    uint64_t file_size = strtoull(argv[3], NULL, 10);
    bs = strtoull(argv[4], NULL, 10);
    int qd = atoi(argv[5]);
    int direct = atoi(argv[6]);
    struct window w = {.warmup_s = atof(argv[7]), .seconds = atof(argv[8])};
    max_batch = argc >= 10 ? atoi(argv[9]) : 2;
    const char *mode = argc == 11 ? argv[10] : "loop";
    int handoff = strcmp(mode, "handoff") == 0;
    int wake = strcmp(mode, "wake") == 0;
    engine_name = handoff ? "c-handoff" : wake ? "c-wake" : "c-loop";
    writes = strcmp(workload, "randwrite") == 0;
    int random = writes || strcmp(workload, "randread") == 0;
    if (bs == 0 || qd < 1 || max_batch < 1 || (!handoff && !wake && strcmp(mode, "loop") != 0)) {
        fprintf(stderr, "%s: BS, QD and BATCH must be positive, MODE loop, handoff or wake\n", engine_name);
        return 2;
    }
    if (wake && qd > MAX_TASKS - 2) {
        fprintf(stderr, "%s: QD at most %d: a thread per request slot\n", engine_name, MAX_TASKS - 2);
        return 2;
    }

    fd = open(path, (writes ? O_WRONLY : O_RDONLY) | (direct ? O_DIRECT : 0) | O_CLOEXEC);
    if (fd < 0) {
        die(path);
    }
    if (syscall(SYS_io_setup, (unsigned) qd, &ctx) < 0) {
        die("io_setup");
    }
    struct ring_header *header = (struct ring_header *) ctx;
    if (header->magic == RING_MAGIC && header->incompat_features == 0 && header->header_length == sizeof *header) {
        ring = header;
        ring_events = (struct io_event *) (header + 1);
    }

    if (posix_memalign((void **) &buffers, 4096, bs * qd) != 0) {
        fprintf(stderr, "%s: out of memory\n", engine_name);
        return 1;
    }
    for (uint64_t i = 0; i < bs * qd; i++) {
        buffers[i] = (unsigned char) (((i * 31) & 0x7f) | 0x80);
    }
    iocbs = aligned_alloc(64, sizeof(struct iocb) * qd);
    batch = calloc(qd, sizeof *batch);
    batch_slots = calloc(qd, sizeof *batch_slots);
    streams = calloc(qd, sizeof *streams);
    events = calloc(qd, sizeof *events);
    free_slots = calloc(qd, sizeof *free_slots);
    submitted = calloc(qd, sizeof *submitted);
    uint64_t blocks = file_size / bs > 0 ? file_size / bs : 1;
    uint64_t per = blocks / qd > 0 ? blocks / qd : 1;
    for (int i = 0; i < qd; i++) {
        streams[i].random = random;
        streams[i].state = 0x9E3779B97F4A7C15ull * (uint64_t) (i + 1);
        streams[i].bs = file_size > 0 ? bs : 0;
        streams[i].blocks = blocks;
        streams[i].first = per * i < blocks - 1 ? per * i : blocks - 1;
        streams[i].stretch = per < blocks - streams[i].first ? per : blocks - streams[i].first;
        free_slots[i] = qd - 1 - i;
    }
    free_count = qd;
    qd_slots = qd;
    expected = (long long) bs;

    pthread_t clock_thread;
    if (pthread_create(&clock_thread, NULL, keep_time, &w) != 0) {
        fprintf(stderr, "%s: cannot start the clock thread\n", engine_name);
        return 1;
    }
    if (handoff) {
        run_handoff();
    } else if (wake) {
        run_wake();
    } else {
        run_loop();
    }
    pthread_join(clock_thread, NULL);

    double seconds = (w.wall1 - w.wall0) / 1e9;
    double cpu_s = (w.cpu1 - w.cpu0) / 1e9;
    double iops = seconds > 0 ? measured_ops / seconds : 0;
    long long wait_ns, runs;
    sched_delta(&w.sched0, &w.sched1, &wait_ns, &runs);
    printf("{\"engine\":\"%s\",\"workload\":\"%s\",\"bs\":%llu,\"qd\":%d,\"direct\":%s,\"file\":\"%s\","
           "\"batch\":%d,\"seconds\":%.3f,\"ops\":%llu,\"iops\":%.1f,\"mib_s\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
           "\"p999_us\":%.2f,\"cpu_s\":%.4f,\"cpu_us_per_op\":%.4f,\"submit_p999_us\":%.2f,"
           "\"submit_max_us\":%.2f,\"run_queue_wait_ns\":%lld,\"thread_runs\":%lld}\n",
           engine_name, workload, (unsigned long long) bs, qd, direct ? "true" : "false",
           path, max_batch, seconds, (unsigned long long) measured_ops, iops, iops * bs / 1048576.0,
           percentile_ns(histogram, measured_ops, 50) / 1e3, percentile_ns(histogram, measured_ops, 99) / 1e3,
           percentile_ns(histogram, measured_ops, 99.9) / 1e3, cpu_s,
           measured_ops > 0 ? cpu_s * 1e6 / measured_ops : 0.0,
           percentile_ns(submit_histogram, submit_count, 99.9) / 1e3, submit_max / 1e3,
           wait_ns, runs);
    syscall(SYS_io_destroy, ctx);
    close(fd);
    return 0;
}

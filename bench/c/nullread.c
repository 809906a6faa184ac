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
 * is seen. Like the harness's panaio loop, it also times each batch's
 * io_submit (the submit stall), so both loops read the clock as often.
 *
 * It exists for nullread (buffered reads of /dev/zero), where the cost of a
 * request is all that is measured, and runs the file workloads too.
 *
 * usage: nullread WORKLOAD FILE FILE_SIZE BS QD DIRECT WARMUP_S SECONDS [BATCH]
 *   WORKLOAD  randread | randwrite | seqread | nullread
 *   BATCH     most requests per io_submit (default 2: a call of more than 2 plugs the block
 *             queue until all of it is prepared; QD sends every free slot at once)
 * Prints one JSON object on one line, with the harness's keys.
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

static void die(const char *what) {
    fprintf(stderr, "c-loop: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The clock thread: sleeps through the warm-up, then the window, taking wall and CPU time at its edges. */
struct window {
    double warmup_s, seconds;
    uint64_t wall0, wall1, cpu0, cpu1;
};

static void sleep_s(double s) {
    struct timespec ts = {(time_t) s, (long) ((s - (time_t) s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void *keep_time(void *arg) {
    struct window *w = arg;
    sleep_s(w->warmup_s);
    w->cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    w->wall0 = now_ns(CLOCK_MONOTONIC);
    __atomic_store_n(&phase, MEASURE, __ATOMIC_RELEASE);
    sleep_s(w->seconds);
    __atomic_store_n(&phase, STOP, __ATOMIC_RELEASE);
    w->wall1 = now_ns(CLOCK_MONOTONIC);
    w->cpu1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    return NULL;
}

/* Per slot offsets: random blocks (xorshift64*), or a sequential stretch of the file per slot. */
struct stream {
    int random;
    uint64_t state, bs, blocks, first, stretch, next;
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

static void complete(uint64_t data, long long res) {
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    int slot = (int) data;
    if (res != expected) {
        fprintf(stderr, "c-loop: a request completed with %lld instead of %lld bytes%s%s\n", res, expected,
                res < 0 ? ": " : "", res < 0 ? strerror((int) -res) : "");
        exit(1);
    }
    if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == MEASURE) {
        histogram[bucket_of(now - submitted[slot])]++;
        measured_ops++;
    }
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

int main(int argc, char **argv) {
    if (argc != 9 && argc != 10) {
        fprintf(stderr, "usage: %s WORKLOAD FILE FILE_SIZE BS QD DIRECT WARMUP_S SECONDS [BATCH]\n", argv[0]);
        return 2;
    }
    const char *workload = argv[1];
    const char *path = argv[2];
    uint64_t file_size = strtoull(argv[3], NULL, 10);
    uint64_t bs = strtoull(argv[4], NULL, 10);
    int qd = atoi(argv[5]);
    int direct = atoi(argv[6]);
    struct window w = {atof(argv[7]), atof(argv[8]), 0, 0, 0, 0};
    int max_batch = argc == 10 ? atoi(argv[9]) : 2;
    int writes = strcmp(workload, "randwrite") == 0;
    int random = writes || strcmp(workload, "randread") == 0;
    if (bs == 0 || qd < 1 || max_batch < 1) {
        fprintf(stderr, "c-loop: BS, QD and BATCH must be positive\n");
        return 2;
    }

    int fd = open(path, (writes ? O_WRONLY : O_RDONLY) | (direct ? O_DIRECT : 0) | O_CLOEXEC);
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

    unsigned char *buffers;
    if (posix_memalign((void **) &buffers, 4096, bs * qd) != 0) {
        fprintf(stderr, "c-loop: out of memory\n");
        return 1;
    }
    for (uint64_t i = 0; i < bs * qd; i++) {
        buffers[i] = (unsigned char) (((i * 31) & 0x7f) | 0x80);
    }
    struct iocb *iocbs = aligned_alloc(64, sizeof(struct iocb) * qd);
    struct iocb **batch = calloc(qd, sizeof *batch);
    int *batch_slots = calloc(qd, sizeof *batch_slots);
    struct stream *streams = calloc(qd, sizeof *streams);
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
    expected = (long long) bs;

    pthread_t clock_thread;
    if (pthread_create(&clock_thread, NULL, keep_time, &w) != 0) {
        fprintf(stderr, "c-loop: cannot start the clock thread\n");
        return 1;
    }
    for (;;) {
        if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != STOP) {
            /* Every free slot goes out now, in batches of at most max_batch per io_submit. */
            while (free_count > 0) {
                int n = 0;
                while (free_count > 0 && n < max_batch) {
                    int slot = free_slots[--free_count];
                    struct iocb *cb = &iocbs[slot];
                    memset(cb, 0, sizeof *cb);
                    cb->aio_data = (uint64_t) slot;
                    cb->aio_lio_opcode = writes ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
                    cb->aio_fildes = (uint32_t) fd;
                    cb->aio_buf = (uint64_t) (uintptr_t) (buffers + (uint64_t) slot * bs);
                    cb->aio_nbytes = bs;
                    cb->aio_offset = (int64_t) next_offset(&streams[slot]);
                    batch[n] = cb;
                    batch_slots[n++] = slot;
                }
                uint64_t t = now_ns(CLOCK_MONOTONIC);
                for (int i = 0; i < n; i++) {
                    submitted[batch_slots[i]] = t;
                }
                int done = 0;
                while (done < n) { /* the kernel may take only part of a batch */
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
                if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == MEASURE) {
                    uint64_t stall = now_ns(CLOCK_MONOTONIC) - t;
                    submit_histogram[bucket_of(stall)]++;
                    submit_count++;
                    submit_max = stall > submit_max ? stall : submit_max;
                }
            }
        } else if (in_flight == 0) {
            break;
        }
        if (reap() == 0 && in_flight > 0) {
            await_one();
        }
    }
    pthread_join(clock_thread, NULL);

    double seconds = (w.wall1 - w.wall0) / 1e9;
    double cpu_s = (w.cpu1 - w.cpu0) / 1e9;
    double iops = seconds > 0 ? measured_ops / seconds : 0;
    printf("{\"engine\":\"c-loop\",\"workload\":\"%s\",\"bs\":%llu,\"qd\":%d,\"direct\":%s,\"file\":\"%s\","
           "\"batch\":%d,\"seconds\":%.3f,\"ops\":%llu,\"iops\":%.1f,\"mib_s\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
           "\"p999_us\":%.2f,\"cpu_s\":%.4f,\"cpu_us_per_op\":%.4f,\"submit_p999_us\":%.2f,"
           "\"submit_max_us\":%.2f}\n",
           workload, (unsigned long long) bs, qd, direct ? "true" : "false", path, max_batch, seconds,
           (unsigned long long) measured_ops, iops, iops * bs / 1048576.0,
           percentile_ns(histogram, measured_ops, 50) / 1e3, percentile_ns(histogram, measured_ops, 99) / 1e3,
           percentile_ns(histogram, measured_ops, 99.9) / 1e3, cpu_s,
           measured_ops > 0 ? cpu_s * 1e6 / measured_ops : 0.0,
           percentile_ns(submit_histogram, submit_count, 99.9) / 1e3, submit_max / 1e3);
    syscall(SYS_io_destroy, ctx);
    close(fd);
    return 0;
}

/*
 * What it costs here to wake a thread that sleeps in a system call
 * (scripts/bench wakeup): the price of every hand-off between threads that
 * the channels make (submitter to engine thread, engine thread to a handler's
 * pool thread or a virtual thread's carrier).
 *
 * Two threads pass a token back and forth through two eventfds, each
 * blocking in read(2) until the other writes; a round trip is two wake-ups.
 * Four set-ups are measured in turns, ROUNDS times, ROUND_TRIPS each, on the
 * first two CPUs the process may run on (A and B):
 *   other CPU        the threads pinned to A and B;
 *   same CPU         both pinned to A;
 *   other CPU, busy  as "other CPU", with a SCHED_IDLE thread spinning on
 *                    each CPU, so that no CPU is ever idle: a wake-up then
 *                    never has to bring a halted CPU back;
 *   same CPU, busy   as "same CPU", with the same spinners.
 * Per set-up the median and the lowest of the rounds' mean round trips are
 * printed. On a virtual machine a halted virtual CPU is woken through the
 * hypervisor; the gap between "other CPU" and "other CPU, busy" is what
 * that costs a hand-off.
 *
 * usage: wakeup [ROUNDS [ROUND_TRIPS]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

enum { MAX_ROUNDS = 64, SETUPS = 4 };
static const char *const NAMES[SETUPS] = {"other CPU", "same CPU", "other CPU, busy", "same CPU, busy"};

static int ping, pong;
static long round_trips;
static int cpus[2];
static int partner_cpu;
static atomic_int spinning;
/* Threads of a round that are pinned (and, for spinners, at SCHED_IDLE): the clock starts once all are. */
static atomic_int ready;

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        fprintf(stderr, "wakeup: cannot pin a thread to CPU %d\n", cpu);
        exit(1);
    }
}

static void pass(int to) {
    uint64_t one = 1;
    if (write(to, &one, sizeof one) != sizeof one) {
        perror("wakeup: write");
        exit(1);
    }
}

static void wait_for(int from) {
    uint64_t count;
    if (read(from, &count, sizeof count) != sizeof count) {
        perror("wakeup: read");
        exit(1);
    }
}

static void start(pthread_t *thread, void *(*body)(void *), void *arg) {
    if (pthread_create(thread, NULL, body, arg) != 0) {
        fprintf(stderr, "wakeup: cannot start a thread\n");
        exit(1);
    }
}

static void *partner(void *unused) {
    (void) unused;
    pin(partner_cpu);
    atomic_fetch_add(&ready, 1);
    for (long i = 0; i < round_trips; i++) {
        wait_for(ping);
        pass(pong);
    }
    return NULL;
}

/* Keeps its CPU from going idle, at the lowest priority there is: any other thread that wakes up runs first. */
static void *spinner(void *cpu) {
    pin((int) (intptr_t) cpu);
    struct sched_param none = {0};
    if (sched_setscheduler(0, SCHED_IDLE, &none) != 0) {
        perror("wakeup: SCHED_IDLE");
        exit(1);
    }
    atomic_fetch_add(&ready, 1);
    while (atomic_load_explicit(&spinning, memory_order_relaxed)) {
    }
    return NULL;
}

/* One round: the mean round trip in nanoseconds. */
static double measure(int same_cpu, int busy) {
    pthread_t spinners[2];
    atomic_store(&ready, 0);
    if (busy) {
        atomic_store(&spinning, 1);
        for (int i = 0; i < 2; i++) {
            start(&spinners[i], spinner, (void *) (intptr_t) cpus[i]);
        }
    }
    partner_cpu = same_cpu ? cpus[0] : cpus[1];
    pthread_t other;
    start(&other, partner, NULL);
    while (atomic_load(&ready) < (busy ? 3 : 1)) {
        sched_yield();
    }
    double begin = now_ns();
    for (long i = 0; i < round_trips; i++) {
        pass(ping);
        wait_for(pong);
    }
    double mean = (now_ns() - begin) / round_trips;
    pthread_join(other, NULL);
    if (busy) {
        atomic_store(&spinning, 0);
        pthread_join(spinners[0], NULL);
        pthread_join(spinners[1], NULL);
    }
    return mean;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 9;
    round_trips = argc > 2 ? atol(argv[2]) : 20000;
    if (rounds < 1 || rounds > MAX_ROUNDS || round_trips < 1) {
        fprintf(stderr, "usage: wakeup [ROUNDS (1..%d) [ROUND_TRIPS]]\n", MAX_ROUNDS);
        return 2;
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        perror("wakeup: sched_getaffinity");
        return 1;
    }
    int found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
        if (CPU_ISSET(cpu, &allowed)) {
            cpus[found++] = cpu;
        }
    }
    if (found < 2) {
        fprintf(stderr, "wakeup: needs two CPUs, this process may run on one\n");
        return 1;
    }
    ping = eventfd(0, 0);
    pong = eventfd(0, 0);
    if (ping < 0 || pong < 0) {
        perror("wakeup: eventfd");
        return 1;
    }
    pin(cpus[0]);
    static double means[SETUPS][MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < SETUPS; s++) {
            means[s][r] = measure(s % 2 == 1, s >= 2);
        }
    }
    printf("eventfd ping-pong between two threads, %d rounds of %ld round trips (two wake-ups each)\n",
            rounds, round_trips);
    printf("%-18s %16s %16s %16s\n", "set-up", "median ns/trip", "lowest ns/trip", "median ns/wake");
    for (int s = 0; s < SETUPS; s++) {
        qsort(means[s], rounds, sizeof(double), by_value);
        double median = means[s][rounds / 2];
        printf("%-18s %16.0f %16.0f %16.0f\n", NAMES[s], median, means[s][0], median / 2);
    }
    return 0;
}

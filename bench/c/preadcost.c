/*
 * What a cached positional read costs through each system call a channel can
 * make it with (scripts/bench preadcost): pread, a one-element preadv2 without
 * flags, and a one-element preadv2 with RWF_NOWAIT, which the asynchronous
 * channel and a virtual thread need so that a miss comes back with EAGAIN
 * instead of waiting for the disk.
 *
 * The three are measured in turns, ROUNDS times, each turn CALLS random
 * reads of BS bytes from a file the page cache holds whole, so that a noisy
 * machine disturbs them alike; per call the median and the lowest of the
 * rounds' means are printed, and the differences to pread. The file is read
 * whole before every turn, so that it stays cached on a busy machine.
 *
 * usage: preadcost FILE [ROUNDS [CALLS]]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

enum { PREAD, PREADV2, PREADV2_NOWAIT, CALLS_KINDS };
enum { MAX_ROUNDS = 64 };
static const char *const NAMES[] = {"pread", "preadv2", "preadv2(RWF_NOWAIT)"};

/* xorshift64: the same offsets for every kind of call, cheap next to a system call */
static unsigned long long next_random(unsigned long long *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Reads the whole file, so that the page cache holds it before every turn. */
static void cache_whole(int fd, off_t size) {
    static char chunk[1 << 16];
    for (off_t at = 0; at < size; at += (off_t) sizeof chunk) {
        if (pread(fd, chunk, sizeof chunk, at) < 0) {
            perror("pread");
            exit(1);
        }
    }
}

static double mean_ns(int fd, int kind, char *buf, size_t bs, long blocks, long calls) {
    unsigned long long state = 88172645463325252ULL;
    double start = now_ns();
    for (long i = 0; i < calls; i++) {
        off_t at = (off_t) (next_random(&state) % (unsigned long long) blocks) * (off_t) bs;
        struct iovec v = {buf, bs};
        ssize_t n = kind == PREAD ? pread(fd, buf, bs, at)
                : preadv2(fd, &v, 1, at, kind == PREADV2_NOWAIT ? RWF_NOWAIT : 0);
        if (n != (ssize_t) bs) {
            fprintf(stderr, "%s at %lld returned %zd: is the file cached whole?\n", NAMES[kind], (long long) at, n);
            exit(1);
        }
    }
    return (now_ns() - start) / (double) calls;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: preadcost FILE [ROUNDS [CALLS]]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 9;
    long calls = argc > 3 ? atol(argv[3]) : 500000;
    if (rounds < 1 || rounds > MAX_ROUNDS || calls < 1) {
        fprintf(stderr, "ROUNDS must be 1 to %d and CALLS at least 1\n", MAX_ROUNDS);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 8192) {
        fprintf(stderr, "%s: at least 8192 bytes needed, it has %lld\n", argv[1], (long long) size);
        return 2;
    }
    static const size_t SIZES[] = {1024, 4096, 8192};
    char *buf = aligned_alloc(4096, 8192);
    double *seen = calloc((size_t) rounds, sizeof(double));
    printf("file %s, %d rounds of %ld calls per kind, kinds in turns; ns per call\n", argv[1], rounds, calls);
    printf("%-8s %-22s %10s %10s %14s\n", "bytes", "call", "median", "lowest", "median - pread");
    for (size_t s = 0; s < sizeof SIZES / sizeof SIZES[0]; s++) {
        size_t bs = SIZES[s];
        long blocks = (long) (size / (off_t) bs);
        double results[CALLS_KINDS][MAX_ROUNDS];
        for (int r = 0; r < rounds; r++) {
            for (int kind = 0; kind < CALLS_KINDS; kind++) {
                cache_whole(fd, size);
                results[kind][r] = mean_ns(fd, kind, buf, bs, blocks, calls);
            }
        }
        double pread_median = 0;
        for (int kind = 0; kind < CALLS_KINDS; kind++) {
            for (int r = 0; r < rounds; r++) {
                seen[r] = results[kind][r];
            }
            qsort(seen, (size_t) rounds, sizeof(double), by_value);
            double median = seen[rounds / 2];
            if (kind == PREAD) {
                pread_median = median;
            }
            printf("%-8zu %-22s %10.1f %10.1f %14.1f\n", bs, NAMES[kind], median, seen[0], median - pread_median);
        }
    }
    free(seen);
    free(buf);
    close(fd);
    return 0;
}

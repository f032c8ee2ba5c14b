#define _GNU_SOURCE
#include "CRuntimeSupport.h"
#include <sched.h>
#include <errno.h>
#include <stddef.h>
#ifdef __linux__
#include <sys/random.h>
#else
#include <stdlib.h>
#endif

extern void *swift_task_enqueueGlobal_hook;

int baton_install_global_enqueue_hook(baton_enqueue_hook_t hook) {
    void *expected = NULL;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, (void *)hook, 0,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) ? 1 : 0;
}

int baton_allowed_cpu_count(void) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_COUNT(&set);
#else
    return 0;
#endif
}

int baton_random_bytes(void *buffer, unsigned long count) {
#ifdef __linux__
    unsigned char *cursor = buffer;
    while (count > 0) {
        ssize_t written = getrandom(cursor, count, 0);
        if (written < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        cursor += written;
        count -= (unsigned long)written;
    }
    return 0;
#else
    arc4random_buf(buffer, count);
    return 0;
#endif
}

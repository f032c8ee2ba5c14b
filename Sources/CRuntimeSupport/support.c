#define _GNU_SOURCE
#include "CRuntimeSupport.h"
#include <sched.h>
#include <errno.h>
#include <stddef.h>
#ifdef __linux__
#include <link.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>
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

struct released_range {
    void *start;
    long length;
};

#ifdef __linux__
/// Finds the main program's relocation table (DT_RELA or DT_REL) and drops its pages from this
/// process's page tables, provided the table lies in a read-only PT_LOAD segment. Dropping pages of a
/// writable private mapping would discard what was written to them; a read-only segment's pages are
/// clean copies of the file, so any later read simply faults them in again.
static int release_relocation_table(struct dl_phdr_info *info, size_t size, void *result) {
    (void)size;
    struct released_range *released = result;
    const ElfW(Dyn) *dynamic = NULL;
    for (ElfW(Half) index = 0; index < info->dlpi_phnum; index++) {
        if (info->dlpi_phdr[index].p_type == PT_DYNAMIC) {
            dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[index].p_vaddr);
        }
    }
    if (dynamic == NULL) return 1;
    uintptr_t table = 0, length = 0;
    for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
        switch (entry->d_tag) {
        case DT_RELA: case DT_REL: table = entry->d_un.d_ptr; break;
        case DT_RELASZ: case DT_RELSZ: length = entry->d_un.d_val; break;
        default: break;
        }
    }
    if (table == 0 || length == 0) return 1;
    // glibc rewrites these entries to run-time addresses once it has loaded the program; other
    // loaders may leave them as offsets from the load address.
    if (table < info->dlpi_addr) table += info->dlpi_addr;
    for (ElfW(Half) index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[index];
        if (segment->p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + segment->p_vaddr;
        if (table < start || table + length > start + segment->p_filesz) continue;
        if (segment->p_flags & PF_W) return 1;
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t first = (table + page - 1) & ~(page - 1);
        uintptr_t end = (table + length) & ~(page - 1);
        if (end > first && madvise((void *)first, end - first, MADV_DONTNEED) == 0) {
            released->start = (void *)first;
            released->length = (long)(end - first);
        }
        return 1;
    }
    return 1;
}
#endif

long baton_release_relocation_table(void **start) {
    struct released_range released = { NULL, 0 };
#ifdef __linux__
    // The first object dl_iterate_phdr reports is the main program; returning 1 stops there.
    dl_iterate_phdr(release_relocation_table, &released);
#endif
    if (start != NULL) *start = released.start;
    return released.length;
}

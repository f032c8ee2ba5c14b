#define _GNU_SOURCE
#include "CRuntimeSupport.h"
#include <sched.h>
#include <errno.h>
#include <stddef.h>
#ifdef __linux__
#include <link.h>
#include <sys/auxv.h>
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

#ifdef __linux__
/// The segment `[address, address + length)` lies wholly inside: 1 read-only PT_LOAD, -1 writable
/// PT_LOAD, 0 none (or it runs past one segment's file-backed part).
static int containing_segment(const ElfW(Phdr) *headers, size_t count, uintptr_t base,
                              uintptr_t address, uintptr_t length) {
    if (address + length < address) return 0;
    for (size_t index = 0; index < count; index++) {
        const ElfW(Phdr) *segment = &headers[index];
        if (segment->p_type != PT_LOAD) continue;
        uintptr_t start = base + segment->p_vaddr;
        if (address < start || address + length > start + segment->p_filesz) continue;
        return (segment->p_flags & PF_W) ? -1 : 1;
    }
    return 0;
}

long baton_releasable_relocation_pages(const ElfW(Phdr) *headers, size_t count, uintptr_t base,
                                       uintptr_t table, uintptr_t length, uintptr_t page_size,
                                       uintptr_t *start) {
    if (table == 0 || length == 0 || page_size == 0 || (page_size & (page_size - 1)) != 0) return 0;
    // glibc rewrites the dynamic section's addresses to run-time ones once it has loaded the program;
    // other loaders (musl, glibc on some architectures) leave offsets from the load address. Only a
    // table that one reading, and not the other, puts inside a segment is taken.
    int asAddress = containing_segment(headers, count, base, table, length);
    int asOffset = (base != 0 && table + base > table)
        ? containing_segment(headers, count, base, table + base, length) : 0;
    if ((asAddress != 0) == (asOffset != 0)) return 0;
    if (asAddress < 0 || asOffset < 0) return 0;
    uintptr_t address = asAddress != 0 ? table : table + base;
    uintptr_t first = (address + page_size - 1) & ~(page_size - 1);
    uintptr_t end = (address + length) & ~(page_size - 1);
    if (end <= first) return 0;
    *start = first;
    return (long)(end - first);
}
#endif

struct released_range {
    void *start;
    long length;
};

#ifdef __linux__
/// Finds the main program's relocation table (DT_RELA or DT_REL) and drops its pages from this
/// process's resident set, provided the table lies in a read-only PT_LOAD segment. Dropping pages of a
/// writable private mapping would discard what was written to them; a read-only segment's pages are
/// clean copies of the file, so any later read simply faults them in again.
static int release_relocation_table(struct dl_phdr_info *info, size_t size, void *result) {
    (void)size;
    struct released_range *released = result;
    // The main program is the object whose program headers the kernel handed over.
    if ((uintptr_t)info->dlpi_phdr != (uintptr_t)getauxval(AT_PHDR)) return 1;
    const ElfW(Dyn) *dynamic = NULL;
    for (ElfW(Half) index = 0; index < info->dlpi_phnum; index++) {
        if (info->dlpi_phdr[index].p_type == PT_DYNAMIC) {
            dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[index].p_vaddr);
        }
    }
    if (dynamic == NULL) return 1;
    uintptr_t rela = 0, relaLength = 0, rel = 0, relLength = 0;
    for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
        switch (entry->d_tag) {
        case DT_RELA: rela = entry->d_un.d_ptr; break;
        case DT_RELASZ: relaLength = entry->d_un.d_val; break;
        case DT_REL: rel = entry->d_un.d_ptr; break;
        case DT_RELSZ: relLength = entry->d_un.d_val; break;
        // Relocations written into the program's code: leave everything as the loader made it.
        case DT_TEXTREL: return 1;
        case DT_FLAGS: if (entry->d_un.d_val & DF_TEXTREL) return 1; break;
        default: break;
        }
    }
    uintptr_t table = rela != 0 ? rela : rel, length = rela != 0 ? relaLength : relLength;
    uintptr_t first = 0;
    long pages = baton_releasable_relocation_pages(info->dlpi_phdr, info->dlpi_phnum, info->dlpi_addr, table,
                                                   length, (uintptr_t)sysconf(_SC_PAGESIZE), &first);
    if (pages > 0 && madvise((void *)first, (size_t)pages, MADV_DONTNEED) == 0) {
        released->start = (void *)first;
        released->length = pages;
    }
    return 1;
}
#endif

long baton_release_relocation_table(void **start) {
    struct released_range released = { NULL, 0 };
#ifdef __linux__
    dl_iterate_phdr(release_relocation_table, &released);
#endif
    if (start != NULL) *start = released.start;
    return released.length;
}

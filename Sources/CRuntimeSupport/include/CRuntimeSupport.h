#ifndef BATON_RUNTIME_SUPPORT_H
#define BATON_RUNTIME_SUPPORT_H

/// The Swift runtime's hook for jobs enqueued on the global concurrent executor. Swift declares no
/// API for it, and in a binary linked with the static Swift runtime the symbol is not exported, so
/// NIO's dlsym-based takeover finds nothing there; referencing it at link time works for both.
///
/// The runtime calls the hook with the Swift calling convention; for two pointer arguments it passes
/// them in the same registers as C on x86_64 and arm64 (NIO's takeover relies on the same). Only the
/// immediate-enqueue hook is installed: jobs woken by a timer (`Task.sleep`) still start on the
/// concurrency pool, which is rare on Baton's request path.
typedef void (*baton_enqueue_original_t)(void *job);
typedef void (*baton_enqueue_hook_t)(void *job, baton_enqueue_original_t original);

/// Installs `hook` if no hook is set yet; returns 1 if it was installed.
int baton_install_global_enqueue_hook(baton_enqueue_hook_t hook);

/// The number of CPUs this process may run on (its affinity mask: `taskset`, cpusets), or 0 if unknown.
int baton_allowed_cpu_count(void);

/// Fills `buffer` from the kernel's CSPRNG (getrandom); returns 0 on success, -1 on failure.
int baton_random_bytes(void *buffer, unsigned long count);

/// Drops the pages of the program's own relocation table from the resident set, once the dynamic
/// loader has applied it. Returns the number of bytes released (0 where there is nothing to do) and,
/// if `start` is not NULL, stores where they begin.
///
/// A position-independent `baton` carries about 125,000 relocations (3 MB, mostly pointers in Swift
/// metadata). The loader reads them all once at start-up and nothing reads them again, but the pages
/// stay mapped and count towards the resident set of every process for its whole life.
long baton_release_relocation_table(void **start);

#ifdef __linux__
#include <link.h>
#include <stdint.h>

/// The decision behind `baton_release_relocation_table`, apart from the process: the whole pages of a
/// relocation table of `length` bytes that may be released, or 0. `table` is the dynamic section's
/// value, a run-time address or an offset from the load address `base` depending on the loader. The
/// table must lie inside one read-only PT_LOAD segment under exactly one of the two readings, within
/// the segment's file-backed part. Stores the first page in `start`; returns the length.
long baton_releasable_relocation_pages(const ElfW(Phdr) *headers, size_t count, uintptr_t base,
                                       uintptr_t table, uintptr_t length, uintptr_t page_size,
                                       uintptr_t *start);
#endif

#endif

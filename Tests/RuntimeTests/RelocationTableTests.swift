#if os(Linux)
import CRuntimeSupport
import Foundation
import Glibc
import Testing

@Suite("Relocation table: released after start-up, still readable; only from a read-only segment")
struct RelocationTableTests {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Whether the page at `address` is mapped in this process: bit 63 of its /proc/self/pagemap entry,
    /// which the kernel shows without privileges (only the frame number is hidden).
    static func isResident(_ address: UnsafeRawPointer) throws -> Bool {
        let pagemap = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/pagemap"))
        defer { try? pagemap.close() }
        try pagemap.seek(toOffset: UInt64(UInt(bitPattern: address) / UInt(pageSize)) * 8)
        let entry = try #require(try pagemap.read(upToCount: 8))
        let value = entry.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        return value >> 63 == 1
    }

    @Test(
        "the test program's table is dropped from the resident set and faults back in when read",
        .enabled(if: FileManager.default.isReadableFile(atPath: "/proc/self/pagemap"))
    )
    func releasesAndStaysReadable() throws {
        var start: UnsafeMutableRawPointer?
        let released = baton_release_relocation_table(&start)
        // The test program is position-independent (linked without packed relocations) and links the
        // whole package: its table is megabytes.
        #expect(released > 16 * Self.pageSize)
        let table = try #require(start)
        #expect(Int(bitPattern: table) % Self.pageSize == 0 && released % Self.pageSize == 0)
        // The middle: a fault on a neighbouring section can map up to 64 KiB around it back in.
        let middle = table + (released / 2 / Self.pageSize) * Self.pageSize
        #expect(try !Self.isResident(middle))
        // A clean page of the file: reading it maps it again, nothing was lost.
        let word = middle.load(as: UInt64.self)
        #expect(try Self.isResident(middle))
        var again: UnsafeMutableRawPointer?
        #expect(baton_release_relocation_table(&again) == released && again == start)
        #expect(middle.load(as: UInt64.self) == word)
    }

    static func segment(_ vaddr: UInt, _ size: UInt, writable: Bool = false, type: Int32 = PT_LOAD) -> Elf64_Phdr {
        Elf64_Phdr(
            p_type: UInt32(type), p_flags: UInt32(PF_R) | (writable ? UInt32(PF_W) : UInt32(PF_X)), p_offset: UInt64(vaddr),
            p_vaddr: UInt64(vaddr), p_paddr: UInt64(vaddr), p_filesz: UInt64(size), p_memsz: UInt64(size), p_align: 0x1000
        )
    }

    /// The pages the decision releases, as (offset from `base`, length); nil when it releases nothing.
    static func releasable(_ headers: [Elf64_Phdr], base: UInt, table: UInt, length: UInt) -> (UInt, Int)? {
        var start: UInt = 0
        let pages = headers.withUnsafeBufferPointer {
            baton_releasable_relocation_pages($0.baseAddress, $0.count, base, table, length, 0x1000, &start)
        }
        return pages > 0 ? (start - base, pages) : nil
    }

    static let base: UInt = 0x5555_0000_0000
    static let program = [
        segment(0, 0x40_0000), segment(0x40_1000, 0x10_0000, writable: true), segment(0x40_1000, 0x1000, type: PT_DYNAMIC),
    ]

    @Test("a table in the read-only segment: its whole pages, read as an address or as an offset")
    func readOnlySegment() {
        let asOffset = Self.releasable(Self.program, base: Self.base, table: 0x5A00, length: 0x30_0000)
        #expect(asOffset?.0 == 0x6000 && asOffset?.1 == 0x2F_F000)
        let asAddress = Self.releasable(Self.program, base: Self.base, table: Self.base + 0x5A00, length: 0x30_0000)
        #expect(asAddress?.0 == 0x6000 && asAddress?.1 == 0x2F_F000)
    }

    @Test("nothing from a writable segment, across segments, beyond the file, or under a page")
    func refusals() {
        // In the writable segment (RELRO and data live there): its pages may hold what was written.
        #expect(Self.releasable(Self.program, base: Self.base, table: 0x40_2000, length: 0x8000) == nil)
        // Starting in the read-only segment and running into the writable one.
        #expect(Self.releasable(Self.program, base: Self.base, table: 0x3F_0000, length: 0x2_0000) == nil)
        // Past the end of every segment.
        #expect(Self.releasable(Self.program, base: Self.base, table: 0x80_0000, length: 0x8000) == nil)
        // Smaller than one whole page.
        #expect(Self.releasable(Self.program, base: Self.base, table: 0x5A00, length: 0xF00) == nil)
        // No table, or a non-power-of-two page size.
        #expect(Self.releasable(Self.program, base: Self.base, table: 0, length: 0x8000) == nil)
        var start: UInt = 0
        let odd = Self.program.withUnsafeBufferPointer {
            baton_releasable_relocation_pages($0.baseAddress, $0.count, Self.base, 0x5A00, 0x30_0000, 3000, &start)
        }
        #expect(odd == 0)
    }

    @Test("a value both readings put inside a segment is ambiguous: nothing released")
    func ambiguousReading() {
        // Loaded at 0x1000 (non-PIE-like low address): 0x8000 is inside as an address and as an offset.
        let low = [Self.segment(0, 0x40_0000)]
        #expect(Self.releasable(low, base: 0x1000, table: 0x8000, length: 0x8000) == nil)
        // A non-PIE program (base 0): one reading only, so it is taken.
        #expect(Self.releasable(low, base: 0, table: 0x8000, length: 0x8000)?.1 == 0x8000)
    }
}
#endif

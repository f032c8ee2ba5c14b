#if os(Linux)
import CRuntimeSupport
import Foundation
import Testing

@Suite("Relocation table: released after start-up, still readable")
struct RelocationTableTests {
    /// Whether the page at `address` is mapped in this process (bit 63 of its /proc/self/pagemap entry).
    static func isResident(_ address: UnsafeRawPointer) throws -> Bool {
        let pagemap = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/pagemap"))
        defer { try? pagemap.close() }
        let page = UInt64(UInt(bitPattern: address)) / UInt64(sysconf(Int32(_SC_PAGESIZE)))
        try pagemap.seek(toOffset: page * 8)
        let entry = try #require(try pagemap.read(upToCount: 8))
        let value = entry.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        return value >> 63 == 1
    }

    @Test("the test program's table is dropped from the resident set and faults back in when read")
    func releasesAndStaysReadable() throws {
        var start: UnsafeMutableRawPointer?
        let released = baton_release_relocation_table(&start)
        // The test program is position-independent and links the whole package: far more than a page.
        #expect(released > 4096)
        let table = try #require(start)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        #expect(Int(bitPattern: table) % pageSize == 0 && released % pageSize == 0)
        #expect(try !Self.isResident(table))
        #expect(try !Self.isResident(table + released - pageSize))
        // A clean page of the file: reading it maps it again, nothing was lost.
        let firstWord = table.load(as: UInt64.self)
        #expect(try Self.isResident(table))
        // Twice is harmless: the same range again.
        var again: UnsafeMutableRawPointer?
        #expect(baton_release_relocation_table(&again) == released && again == start)
        #expect(table.load(as: UInt64.self) == firstWord)
    }
}
#endif

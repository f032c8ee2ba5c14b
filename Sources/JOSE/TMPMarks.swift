#if canImport(Glibc)
import Glibc
#endif
import Synchronization
let tmpMarksStore = Mutex<[(StaticString, Int)]>([])
public func tmark(_ label: StaticString) {
    var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts)
    let t = ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    tmpMarksStore.withLock { $0.append((label, t)) }
}
public func tstoreMark(_ label: StaticString) { tmark(label) }
public func tdump() {
    guard getenv("TMARKS") != nil else { return }
    let marks = tmpMarksStore.withLock { $0 }.sorted { $0.1 < $1.1 }
    guard let first = marks.first?.1 else { return }
    var previous = first
    var line = ""
    for (label, t) in marks { line += "\(label) +\((t - previous) / 1000) "; previous = t }
    line += "total \((previous - first) / 1000)us\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

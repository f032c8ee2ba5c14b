// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// For the code that ships in `baton`: generic types such as `Set<JWSAlgorithm>` get their metadata
/// through direct accessor calls that pass the conformances along, instead of from a mangled name that
/// the runtime demangles and then checks by scanning every conformance record of the statically linked
/// program (9,117 records, about half a million instructions per type and protocol). A cold
/// `baton invoke` made 22 such scans; this left 13 and saved ~0.2 ms. A frontend flag, checked with
/// Swift 6.3.1; the cold-start floor (`bench-floor`) and the tests do without it.
let shipped: [SwiftSetting] = strict + [
    .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"]),
]

let staticCxxFlags = Context.environment["BATON_STATIC_CXX"] == "0" ? [] : ["-L", Context.packageDirectory + "/Linker"]

let package = Package(
    name: "baton",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "baton", targets: ["baton"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Hummingbird's default traits pull swift-configuration and full Foundation; Baton needs neither.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // Test-only: an independent JOSE implementation that checks what Baton signs and publishes.
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        // Replay stores shared across processes: SQLite and PostgreSQL. From sqlite-nio Baton uses the
        // SQLite it bundles (its VaporCSQLite module, no system library), through SQLite's C API. That
        // module is not one of sqlite-nio's products, so minor releases are taken deliberately.
        .package(url: "https://github.com/vapor/sqlite-nio.git", .upToNextMinor(from: "1.13.2")),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Compact JWS, strict JSON and key handling over swift-crypto: no I/O, no clock.
        .target(
            name: "JOSE",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: shipped
        ),
        // Pure request -> response functions over an immutable snapshot.
        // Handlers run on whatever executor calls them: no executor hop at each of the grant path's
        // async calls (authentication, grant, replay claim), which none of them needs.
        .target(
            name: "Handlers", dependencies: ["JOSE"],
            swiftSettings: shipped + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
        ),
        // Environment variables and files -> validated snapshot and keys.
        .target(name: "KeyLoader", dependencies: ["JOSE", "Handlers"], swiftSettings: shipped),
        // C the Runtime needs: the global-executor hook (`baton serve` runs tasks on NIO's loops), CPU
        // affinity; and for the executable, releasing the relocation table's pages after start-up.
        .target(name: "CRuntimeSupport"),
        // Adapters: stdin event, HTTP server; they translate and route, nothing more.
        .target(
            name: "Runtime",
            dependencies: [
                "Handlers", "JOSE", "CRuntimeSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: shipped
        ),
        // C the SQLite replay store needs: a call to a variadic SQLite function.
        .target(name: "CSQLiteSupport", dependencies: [.product(name: "SQLiteNIO", package: "sqlite-nio")]),
        // Replay stores that outlive one process: SQLite file, PostgreSQL.
        .target(
            name: "ReplayStores",
            dependencies: [
                "Handlers", "CSQLiteSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: shipped
        ),
        .executableTarget(
            name: "baton",
            dependencies: [
                "JOSE", "Handlers", "KeyLoader", "Runtime", "ReplayStores", "CRuntimeSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: shipped,
            // `--no-export-dynamic`: `-static-stdlib` exports the symbols of every module linked into the
            // program (about 40,000); nothing looks them up, and each cold start paid for them: the Swift
            // runtime's start-up dladdr walks the whole table, and its pages count towards the resident set.
            // `-L Linker`, release builds only: the C++ runtime is linked in statically (see
            // Linker/libstdc++.so). Meant for `--static-swift-stdlib`, as every shipped build is; a debug
            // build loads the shared Swift runtime, which brings libstdc++.so.6 with it, and would carry two
            // copies. `BATON_STATIC_CXX=0` at build time keeps the shared libstdc++.so.6.
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux])),
                .unsafeFlags(staticCxxFlags, .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        // Benchmarks (bench/run): crypto ceiling, handlers in process, HTTP load generator, cold start.
        .executableTarget(
            name: "baton-bench",
            dependencies: [
                "JOSE", "Handlers", "KeyLoader", "Runtime", "ReplayStores",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The cold-start floor: a trivial Swift executable that prints a fixed JSON.
        .executableTarget(name: "bench-floor", swiftSettings: strict),
        .testTarget(
            name: "JOSETests",
            dependencies: ["JOSE", .product(name: "JWTKit", package: "jwt-kit")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HandlersTests",
            dependencies: ["Handlers", "JOSE", "KeyLoader", .product(name: "JWTKit", package: "jwt-kit")],
            swiftSettings: strict
        ),
        .testTarget(name: "KeyLoaderTests", dependencies: ["KeyLoader", "JOSE", "Handlers"], swiftSettings: strict),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Runtime", "Handlers", "KeyLoader", "JOSE", "CRuntimeSupport", .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ReplayStoresTests",
            dependencies: ["ReplayStores", "Handlers", "JOSE", "Runtime"],
            swiftSettings: strict
        ),
    ]
)

// swift-tools-version:6.0
// Xomify: a FastCGI responder pool, two Spotify jobs and their store, over libfcgi, libpq, libcurl and OpenSSL.
// Layers (each depends only on the ones above it):
//   C libraries and shims      CFastCGI CPostgres CCurl COpenSSL CCurlShim CSystemShim
//   Swift basics               Text
//   Swift wrappers             Platform FastCGI Postgres HTTPClient Crypto
//   Foundations (pure Swift)   JSON Log Configuration HTTP
//   Pool                       ResponderPool
//   Domain                     Model Auth Store Spotify API Jobs Importer
//   Executables                xomify-api xomify-wrapped xomify-release-radar
// Only Store imports Postgres (its commands are internal to Store), only ResponderPool imports FastCGI, and no
// module above the wrappers imports a C module.
import PackageDescription

let package = Package(
    name: "Xomify",
    products: [
        .executable(name: "xomify-api", targets: ["xomify-api"]),
        .executable(name: "xomify-wrapped", targets: ["xomify-wrapped"]),
        .executable(name: "xomify-release-radar", targets: ["xomify-release-radar"]),
    ],
    targets: [
        // C libraries (Debian 12 packages) and typed shims for what Swift cannot call directly.
        .systemLibrary(name: "CFastCGI", path: "Sources/CFastCGI", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"], path: "Sources/CCurlShim", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CSystemShim", path: "Sources/CSystemShim"),

        // Swift basics every module may use: the one trimming and the one zero-padding helper.
        .target(name: "Text"),

        // Swift wrappers: the only modules that see C types.
        .target(name: "Platform", dependencies: ["CSystemShim"]),
        .target(name: "FastCGI", dependencies: ["CFastCGI"]),
        .target(name: "Postgres", dependencies: ["CPostgres", "Platform", "Text"]),
        .target(name: "HTTPClient", dependencies: ["CCurl", "CCurlShim", "Platform", "Text"]),
        .target(name: "Crypto", dependencies: ["COpenSSL"]),

        // Foundations in pure Swift.
        .target(name: "JSON"),
        .target(name: "Log", dependencies: ["Platform", "Text"]),
        .target(name: "Configuration", dependencies: ["Platform", "Text"]),
        .target(name: "HTTP", dependencies: ["JSON", "Text"]),

        // The php-fpm-like pool: supervisor, workers, responder threads, the status report.
        .target(name: "ResponderPool", dependencies: ["FastCGI", "HTTP", "Platform", "Log", "JSON"]),

        // Domain.
        .target(name: "Model", dependencies: ["JSON", "Text"]),
        .target(name: "Auth", dependencies: ["Crypto", "JSON", "Text"]),
        .target(name: "Store", dependencies: ["Postgres", "Crypto", "Model", "JSON", "Log", "Platform", "Text"]),
        .target(name: "Spotify", dependencies: ["HTTPClient", "HTTP", "JSON", "Crypto", "Model", "Log", "Platform", "Text"]),
        .target(name: "API", dependencies: ["HTTP", "JSON", "Auth", "Store", "Model", "Spotify", "Log", "Platform", "Text"]),
        .target(name: "Jobs", dependencies: ["Store", "Spotify", "Model", "JSON", "Log", "Platform", "Configuration", "Crypto"]),
        // Moving from the old system (SPEC §13): DynamoDB exports read, validated and mapped to the model.
        .target(name: "Importer", dependencies: ["Store", "Model", "JSON", "Log", "Platform", "Text"]),

        // Executables: short mains.
        .executableTarget(name: "xomify-api",
                          dependencies: ["ResponderPool", "API", "Auth", "Store", "Spotify", "Importer", "Configuration", "HTTP",
                                         "Log", "Platform"]),
        .executableTarget(name: "xomify-wrapped", dependencies: ["Jobs", "Model", "Platform"]),
        .executableTarget(name: "xomify-release-radar", dependencies: ["Jobs", "Model", "Platform"]),

        // A load driver for the Spotify client's tests and benchmark.
        .executableTarget(name: "spotify-load", dependencies: ["Jobs", "Spotify", "Configuration", "JSON", "Platform"],
                          path: "Benchmarks/spotify-load"),

        // Unit tests for pure logic; the integration tests (pytest, Tests/integration) run the real executables
        // against a real PostgreSQL, nginx and the Spotify sandbox.
        .testTarget(name: "UnitTests",
                    dependencies: ["JSON", "Crypto", "Auth", "Model", "Configuration", "HTTP", "Jobs", "Importer", "Platform",
                                   "Store", "Postgres", "Text", "API", "FastCGI", "ResponderPool"],
                    exclude: ["make_gzip_fixtures.py"]),
    ]
)

# Shared by scripts/run and scripts/test: install what is missing (Debian 12), find Swift, build.

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*"; return 1; fi
}

# Debian packages the build, the tests and the local run need. The second line: what the steps of docs/DEPLOY.md
# run, which Tests/integration/test_deploy_guide.py runs on a scratch root with this machine's programs.
APT_PACKAGES=(libfcgi-dev libpq-dev libcurl4-openssl-dev libssl-dev postgresql-15 postgresql-client-15 nginx openssl
              python3 python3-pip ca-certificates util-linux procps systemd
              postgresql-client rsync git curl jq iproute2 adduser diffutils)

install_missing() {
    local missing=()
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # The packaged nginx and PostgreSQL services are not used (the rig runs its own); keep them out of the way.
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        as_root systemctl disable --now nginx postgresql >/dev/null 2>&1 || true
    fi
    if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null; then
        export PATH=/opt/swift/usr/bin:$PATH
    fi
    command -v swift >/dev/null || { log "Swift 6 is required (https://swift.org/install); not found on PATH"; return 1; }
}

install_python_requirements() {
    local root="$1"
    if ! python3 -c 'import pytest, yaml, openapi_schema_validator, jsonschema, schemathesis' 2>/dev/null; then
        log "installing Python test requirements"
        python3 -m pip install -q -r "$root/Tests/requirements.txt" 2>/dev/null \
            || python3 -m pip install -q --break-system-packages -r "$root/Tests/requirements.txt"
    fi
}

# Runs a command with SwiftPM's progress lines filtered out of its output (errors and test results stay).
quietly() {
    "$@" 2>&1 | { grep -Ev '^\[[0-9]+/[0-9]+\]|^Building for|^Build complete|^Compiling|^Write swift-version|^Fetching|^Computing' || true; } >&2
}

build() {
    local configuration="$1"
    log "building ($configuration)"
    quietly swift build -c "$configuration"
}

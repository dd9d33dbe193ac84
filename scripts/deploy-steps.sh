#!/usr/bin/env bash
# The commands of docs/DEPLOY.md, one function per numbered step, exactly as the guide shows them: the guide
# includes each function's body verbatim, and Tests/integration/test_deploy_guide.py fails when the two differ,
# then runs these functions in order, in one shell, on a scratch root standing for a fresh Debian 12 host.
#
# Bodies are not indented (so that the here-documents write what they show). Every step runs in the same root
# shell as the ones before it and leaves that shell as it found it: no cd, no umask, nothing exported (a step
# that needs either does it in a subshell). Step 0 sets three shell variables the later steps use.
#
#   scripts/deploy-steps.sh list            the steps, in order
#   scripts/deploy-steps.sh show STEP       one step's commands
#   source scripts/deploy-steps.sh          define the functions in your shell (then run step_00_settings, ...)

step_00_settings() {
API_HOST=api.example.com                               # the API's public host name (DNS may come later)
SOURCE_URL=https://example.com/xomify-backend.git      # where you clone this repository from
SPOTIFY_CLIENT_ID=0123456789abcdef0123456789abcdef     # your Spotify app's client id (developer dashboard)
}

step_01_packages() {
apt-get update
apt-get install -y nginx postgresql postgresql-client libfcgi0ldbl libpq5 libcurl4 libssl3 \
    ca-certificates openssl curl jq rsync git gnupg
apt-get install -y build-essential pkg-config libfcgi-dev libpq-dev libcurl4-openssl-dev libssl-dev \
    binutils gcc libedit-dev libicu-dev libncurses-dev libpython3-dev libsqlite3-dev libxml2-dev tzdata uuid-dev
if [ ! -x /opt/swift/usr/bin/swift ]; then (
    set -e
    release=https://download.swift.org/swift-6.3.1-release/debian12/swift-6.3.1-RELEASE
    tarball=swift-6.3.1-RELEASE-debian12.tar.gz
    work=$(mktemp -d)
    cd "$work"
    curl -fsSLO "$release/$tarball"
    curl -fsSLO "$release/$tarball.sig"
    install -d -m 0700 gnupg
    curl -fsSL https://swift.org/keys/all-keys.asc | gpg --batch --homedir gnupg --import -
    gpg --batch --homedir gnupg --verify "$tarball.sig" "$tarball"
    install -d /opt/swift
    tar -xzf "$tarball" -C /opt/swift --strip-components=1
    rm -rf "$work"
) fi
/opt/swift/usr/bin/swift --version
}

step_02_user_and_directories() {
adduser --system --group --no-create-home --home /nonexistent --shell /usr/sbin/nologin xomify
install -d -m 0750 -o root -g xomify /etc/xomify
install -d -m 0700 -o root -g root /etc/xomify/credentials
install -d -m 0755 /usr/local/share/xomify /usr/local/share/xomify/sql /usr/local/share/xomify/assets
install -d -m 0700 /var/backups/xomify
}

step_03_build_and_install() {
[ -d /usr/local/src/xomify/.git ] || git clone "${SOURCE_URL:?set SOURCE_URL (step 0)}" /usr/local/src/xomify
/opt/swift/usr/bin/swift build --package-path /usr/local/src/xomify -c release --static-swift-stdlib
install -m 0755 -t /usr/local/bin /usr/local/src/xomify/.build/release/xomify-api \
    /usr/local/src/xomify/.build/release/xomify-wrapped /usr/local/src/xomify/.build/release/xomify-release-radar
rsync -a --delete --chmod=D0755,F0644 /usr/local/src/xomify/sql/ /usr/local/share/xomify/sql/
rsync -a --delete --chmod=D0755,F0644 /usr/local/src/xomify/assets/ /usr/local/share/xomify/assets/
ls -l /usr/local/bin/xomify-*
}

step_04_database_and_role() {
runuser -u postgres -- createuser --no-superuser --no-createdb --no-createrole xomify
runuser -u postgres -- createdb --owner=xomify --encoding=UTF8 --locale=C.UTF-8 --template=template0 xomify
}

step_05_configuration() {
install -m 0640 -o root -g xomify /dev/null /etc/xomify/xomify.conf
cat > /etc/xomify/xomify.conf <<EOF
# Settings of xomify-api, xomify-wrapped and xomify-release-radar (each reads its own: see --help).
# Read at every start; xomify-api's workers read it again on a reload. No secrets here.

# PostgreSQL over the local socket as the system user xomify (peer authentication, no password).
XOMIFY_DATABASE_URL=host=/run/postgresql dbname=xomify user=xomify application_name=xomify

# The pool: worker processes x responder threads, each thread with one database connection.
XOMIFY_WORKERS=2
XOMIFY_THREADS=4
XOMIFY_MAX_REQUESTS=0
XOMIFY_REQUEST_TIMEOUT_MS=5000
XOMIFY_SLOW_REQUEST_MS=1000
XOMIFY_LEGACY_TOKENS=deny
XOMIFY_ADMIN_EMAILS=
XOMIFY_SQL_DIR=/usr/local/share/xomify/sql

# Spotify: the app's client id; requests per second and in flight per job run; requests per rolling
# 24 h shared by every runner on every host (keep it under your app's quota); the playlist covers.
XOMIFY_SPOTIFY_CLIENT_ID=${SPOTIFY_CLIENT_ID:?set SPOTIFY_CLIENT_ID (step 0)}
XOMIFY_SPOTIFY_MAX_RPS=5
XOMIFY_SPOTIFY_CONCURRENCY=8
XOMIFY_SPOTIFY_DAILY_BUDGET=2000
XOMIFY_ASSETS_DIR=/usr/local/share/xomify/assets

XOMIFY_LOG_LEVEL=info

# The secrets' files. The services read systemd's copies ($CREDENTIALS_DIRECTORY) first; these paths
# are for commands run by hand as root (xomify-api check-config).
XOMIFY_JWT_SECRET_FILE=/etc/xomify/credentials/jwt-secret
XOMIFY_TOKEN_KEY_FILE=/etc/xomify/credentials/token-key
XOMIFY_SPOTIFY_CLIENT_SECRET_FILE=/etc/xomify/credentials/spotify-client-secret
EOF
ls -l /etc/xomify/xomify.conf
}

step_06_secrets() {
(
    umask 077
    cd /etc/xomify/credentials || exit
    [ -e jwt-secret ] || openssl rand -base64 48 > jwt-secret
    [ -e token-key ] || openssl rand -base64 32 > token-key
    [ -e spotify-client-secret ] || { read -rs -p 'Spotify client secret: ' secret && printf '%s\n' "$secret" > spotify-client-secret; }
)
echo
ls -l /etc/xomify/credentials
}

step_07_migrations() {
/usr/local/bin/xomify-api check-config && runuser -u xomify -- /usr/local/bin/xomify-api migrate
}

step_08_units() {
install -m 0644 -t /etc/systemd/system /usr/local/src/xomify/systemd/xomify-*
systemd-analyze verify /etc/systemd/system/xomify-*
systemctl daemon-reload
}

step_09_certificate() {
install -d -m 0755 /etc/ssl/xomify
if [ ! -e /etc/ssl/xomify/fullchain.pem ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj "/CN=${API_HOST:?set API_HOST (step 0)}" -addext "subjectAltName=DNS:$API_HOST" \
        -keyout /etc/ssl/xomify/privkey.pem -out /etc/ssl/xomify/fullchain.pem
    chmod 0600 /etc/ssl/xomify/privkey.pem
    chmod 0644 /etc/ssl/xomify/fullchain.pem
fi
ls -l /etc/ssl/xomify
}

step_10_nginx_site() {
install -d -m 0755 /etc/nginx/xomify /var/www/acme
install -m 0644 -t /etc/nginx/xomify /usr/local/src/xomify/nginx/xomify-http.conf \
    /usr/local/src/xomify/nginx/xomify-server.conf /usr/local/src/xomify/nginx/xomify-errors.conf \
    /usr/local/src/xomify/nginx/xomify-fastcgi.conf
[ -e /etc/nginx/xomify/xomify-cors-origins.conf ] || \
    install -m 0644 /usr/local/src/xomify/nginx/xomify-cors-origins.conf /etc/nginx/xomify/
sed "s/api\.example\.com/${API_HOST:?set API_HOST (step 0)}/g" /usr/local/src/xomify/nginx/xomify.conf \
    > /etc/nginx/sites-available/xomify
ln -sf /etc/nginx/sites-available/xomify /etc/nginx/sites-enabled/xomify
rm -f /etc/nginx/sites-enabled/default
nginx -t && systemctl reload nginx
}

step_11_start() {
systemctl enable --now xomify-api.socket xomify-api.service
systemctl status --no-pager xomify-api.socket xomify-api.service
}

step_12_verify() {
curl -fsS --resolve "${API_HOST:?set API_HOST (step 0)}:443:127.0.0.1" --cacert /etc/ssl/xomify/fullchain.pem \
    "https://$API_HOST/ping"; echo
curl -fsS --resolve "$API_HOST:443:127.0.0.1" --cacert /etc/ssl/xomify/fullchain.pem "https://$API_HOST/health"; echo
curl -sS -o /dev/null -w '%{http_code} %{redirect_url}\n' --resolve "$API_HOST:80:127.0.0.1" "http://$API_HOST/ping"
curl -sS -i --resolve "$API_HOST:443:127.0.0.1" --cacert /etc/ssl/xomify/fullchain.pem "https://$API_HOST/wrapped/data"; echo
curl -fsS --resolve "$API_HOST:443:127.0.0.1" --cacert /etc/ssl/xomify/fullchain.pem "https://$API_HOST/status" \
    | jq -c '.pool'
curl -sS -o /dev/null -w '%{http_code}\n' --resolve "$API_HOST:443:$(hostname -I | cut -d' ' -f1)" \
    --cacert /etc/ssl/xomify/fullchain.pem "https://$API_HOST/status"
runuser -u postgres -- psql -X -q -d xomify \
    -c "INSERT INTO users (email) VALUES ('deploy-check@example.invalid') ON CONFLICT DO NOTHING"
(
    token=$(systemd-run --quiet --wait --pipe --uid=xomify -p EnvironmentFile=-/etc/xomify/xomify.env \
        -p LoadCredential=jwt-secret:/etc/xomify/credentials/jwt-secret \
        /usr/local/bin/xomify-api mint-token deploy-check@example.invalid --ttl 10m) || exit
    headers=$(mktemp)
    curl -fsS -D "$headers" --resolve "$API_HOST:443:127.0.0.1" --cacert /etc/ssl/xomify/fullchain.pem \
        --oauth2-bearer "$token" "https://$API_HOST/wrapped/data"; echo
    etag=$(sed -n 's/^etag: *//Ip' "$headers" | tr -d '\r')
    rm -f "$headers"
    echo "ETag: $etag"
    curl -sS -o /dev/null -w '%{http_code}\n' --resolve "$API_HOST:443:127.0.0.1" \
        --cacert /etc/ssl/xomify/fullchain.pem --oauth2-bearer "$token" -H "If-None-Match: $etag" \
        "https://$API_HOST/wrapped/data"
)
runuser -u postgres -- psql -X -q -d xomify -c "DELETE FROM users WHERE email = 'deploy-check@example.invalid'"
}

step_13_jobs() {
systemctl enable --now xomify-wrapped.timer xomify-release-radar.timer
systemctl list-timers --no-pager 'xomify-*'
systemctl start xomify-wrapped.service
systemctl start xomify-release-radar.service
journalctl --no-pager -u xomify-wrapped -u xomify-release-radar | grep -F 'finished with status'
}

step_15_upgrade() {
git -C /usr/local/src/xomify pull --ff-only
/opt/swift/usr/bin/swift build --package-path /usr/local/src/xomify -c release --static-swift-stdlib
install -m 0755 -t /usr/local/bin /usr/local/src/xomify/.build/release/xomify-api \
    /usr/local/src/xomify/.build/release/xomify-wrapped /usr/local/src/xomify/.build/release/xomify-release-radar
rsync -a --delete --chmod=D0755,F0644 /usr/local/src/xomify/sql/ /usr/local/share/xomify/sql/
rsync -a --delete --chmod=D0755,F0644 /usr/local/src/xomify/assets/ /usr/local/share/xomify/assets/
install -m 0644 -t /etc/systemd/system /usr/local/src/xomify/systemd/xomify-*
systemd-analyze verify /etc/systemd/system/xomify-*
systemctl daemon-reload
install -m 0644 -t /etc/nginx/xomify /usr/local/src/xomify/nginx/xomify-http.conf \
    /usr/local/src/xomify/nginx/xomify-server.conf /usr/local/src/xomify/nginx/xomify-errors.conf \
    /usr/local/src/xomify/nginx/xomify-fastcgi.conf
sed "s/api\.example\.com/${API_HOST:?set API_HOST (step 0)}/g" /usr/local/src/xomify/nginx/xomify.conf \
    > /etc/nginx/sites-available/xomify.new
diff -u /etc/nginx/sites-available/xomify /etc/nginx/sites-available/xomify.new || true
mv /etc/nginx/sites-available/xomify.new /etc/nginx/sites-available/xomify
nginx -t && systemctl reload nginx
/usr/local/bin/xomify-api check-config && runuser -u xomify -- /usr/local/bin/xomify-api migrate \
    && systemctl restart xomify-api.service
}

step_16a_rotate_jwt_secret() {
(
    umask 077
    openssl rand -base64 48 > /etc/xomify/credentials/jwt-secret.new
    mv /etc/xomify/credentials/jwt-secret.new /etc/xomify/credentials/jwt-secret
)
/usr/local/bin/xomify-api check-config && systemctl restart xomify-api.service
}

step_16b_rotate_token_key() {
(
    umask 077
    next=$(awk -F: '/^[[:space:]]*(#|$)/ {next} {v = (NF == 2 ? $1 + 0 : 1); if (v > max) max = v} END {print max + 1}' \
        /etc/xomify/credentials/token-key)
    printf '%s:%s\n' "$next" "$(openssl rand -base64 32)" >> /etc/xomify/credentials/token-key
)
/usr/local/bin/xomify-api check-config && systemctl restart xomify-api.service
}

step_16c_rotate_spotify_client_secret() {
(
    umask 077
    read -rs -p 'New Spotify client secret: ' secret || exit
    printf '%s\n' "$secret" > /etc/xomify/credentials/spotify-client-secret.new
    mv /etc/xomify/credentials/spotify-client-secret.new /etc/xomify/credentials/spotify-client-secret
)
echo
if grep -qsx 'XOMIFY_LEGACY_TOKENS=allow' /etc/xomify/xomify.conf /etc/xomify/xomify.env; then
    /usr/local/bin/xomify-api check-config && systemctl restart xomify-api.service
fi
}

step_17a_backup() {
runuser -u postgres -- pg_dump --format=custom xomify > "/var/backups/xomify/xomify-$(date -u +%Y%m%dT%H%M%SZ).dump"
ls -l /var/backups/xomify
}

step_17b_restore() {
systemctl stop xomify-wrapped.timer xomify-release-radar.timer xomify-wrapped.service xomify-release-radar.service \
    xomify-api.socket xomify-api.service
runuser -u postgres -- dropdb --if-exists --force xomify
runuser -u postgres -- createdb --owner=xomify --encoding=UTF8 --locale=C.UTF-8 --template=template0 xomify
runuser -u postgres -- pg_restore --exit-on-error --single-transaction --no-owner --role=xomify --dbname=xomify \
    < "$(ls -1t /var/backups/xomify/xomify-*.dump | head -n 1)"
runuser -u xomify -- /usr/local/bin/xomify-api migrate
systemctl start xomify-api.socket xomify-api.service xomify-wrapped.timer xomify-release-radar.timer
}

step_22_removal() {
systemctl disable --now xomify-wrapped.timer xomify-release-radar.timer xomify-api.socket xomify-api.service
systemctl stop xomify-wrapped.service xomify-release-radar.service
rm -rf /etc/systemd/system/xomify-*
systemctl daemon-reload
rm -rf /etc/nginx/sites-enabled/xomify /etc/nginx/sites-available/xomify /etc/nginx/xomify
nginx -t && systemctl reload nginx
runuser -u postgres -- dropdb --if-exists xomify
runuser -u postgres -- dropuser --if-exists xomify
rm -f /usr/local/bin/xomify-api /usr/local/bin/xomify-wrapped /usr/local/bin/xomify-release-radar
rm -rf /usr/local/share/xomify /usr/local/src/xomify /etc/xomify /etc/ssl/xomify /var/www/acme /var/cache/xomify-api
deluser --system xomify
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
        list) awk -F'(' '/^step_[a-z0-9_]+\(\) \{$/ {print $1}' "${BASH_SOURCE[0]}" ;;
        show) awk -v step="${2:?which step? (list shows them)}" \
                  '$0 == step "() {" {on = 1; next} on && $0 == "}" {exit} on' "${BASH_SOURCE[0]}" ;;
        *) echo "usage: $0 list | show STEP   (or: source $0, then run the steps in order)" >&2; exit 64 ;;
    esac
fi

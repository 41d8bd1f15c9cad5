# Sourced by scripts/test and scripts/demo: plugboard links the system's OpenSSL 3 (libcrypto),
# whose headers come from libssl-dev. Installs it with apt-get when missing and we are root.
ensure_openssl() {
    if [ -e /usr/include/openssl/hmac.h ]; then return 0; fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${PLUGBOARD_INSTALL:-1}" != 0 ]; then
        echo "installing libssl-dev (OpenSSL 3 headers) with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q --no-install-recommends libssl-dev >&2 \
            || { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends libssl-dev >&2; }
    fi
    [ -e /usr/include/openssl/hmac.h ] || {
        echo "OpenSSL 3 headers are missing: install libssl-dev (Debian/Ubuntu) or openssl-devel (Fedora)" >&2
        return 1
    }
}

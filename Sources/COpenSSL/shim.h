// The parts of the operating system's OpenSSL 3 (libcrypto) that plugboard uses.
// Headers come from libssl-dev; the library is libcrypto.so.3.
#ifndef PLUGBOARD_COPENSSL_H
#define PLUGBOARD_COPENSSL_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#endif

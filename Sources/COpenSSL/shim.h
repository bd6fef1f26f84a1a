// OpenSSL's libcrypto (Debian's libssl-dev): SHA-256 through EVP, with the SHA extensions where
// the CPU has them.
#include <openssl/evp.h>

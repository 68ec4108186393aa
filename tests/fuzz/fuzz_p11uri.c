/*
 * libFuzzer target: arbitrary bytes as the PKCS#11 URI of `ca create
 * --pkcs11` / `ca import --pkcs11`, checking p11uri.h's promises: an
 * accepted URI names a token and a key, its text attributes are NUL-free
 * and within their CK_TOKEN_INFO sizes, the id fits; a refusal carries a
 * message and never echoes a pin-value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p11uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[P11URI_MAX + 64];
	char err[512];
	struct p11uri u;
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;

	memcpy(in, data, n);
	in[n] = '\0';
	err[0] = '\0';
	if (p11uri_parse(in, &u, err, sizeof(err)) == 0) {
		CHECK(p11uri_is(in));
		CHECK(strlen(in) <= P11URI_MAX);
		CHECK(u.has_token || u.has_serial);
		CHECK(u.has_object || u.idlen > 0);
		CHECK(strlen(u.token) <= P11URI_LABEL_MAX);
		CHECK(strlen(u.manufacturer) <= P11URI_LABEL_MAX);
		CHECK(strlen(u.model) <= P11URI_MODEL_MAX);
		CHECK(strlen(u.serial) <= P11URI_MODEL_MAX);
		CHECK(strlen(u.object) <= P11URI_OBJECT_MAX);
		CHECK(u.idlen <= P11URI_ID_MAX);
		CHECK(strchr(in, '?') == NULL);
	} else {
		CHECK(err[0] != '\0');
		CHECK(strstr(err, "pin-value=") == NULL);
	}
	return 0;
}

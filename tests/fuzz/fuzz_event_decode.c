/* Fuzz target for the event decoder: any input must either be rejected cleanly or decode to
 * an event that re-encodes and decodes to the same event, byte-for-byte stable from then on. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/event_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_event_decode: %s: %s\n", what, err);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event a, b;
    char err[512] = "", *out = NULL, *out2 = NULL;
    size_t len, len2;
    int rc = event_decode(data, size, &a, err, sizeof err);
    if (rc != 0) {
        if (rc != -EINVAL && rc != -EMSGSIZE)
            fail("unexpected decode error code", err);
        if (err[0] == '\0')
            fail("decode failed without a message", "");
        return 0;
    }
    rc = event_encode(&a, &out, &len, err, sizeof err);
    /* Re-encoding may grow (times gain milliseconds), so only inputs near the limit may
     * legitimately come out too large. */
    if (rc == -EMSGSIZE && size > EVENT_MAX_BYTES - 4096) {
        event_deinit(&a);
        return 0;
    }
    if (rc != 0)
        fail("re-encoding a decoded event failed", err);
    if (event_decode(out, len, &b, err, sizeof err) != 0)
        fail("decoding the re-encoded event failed", err);
    if (!event_equal(&a, &b))
        fail("decodes disagree", out);
    if (event_encode(&b, &out2, &len2, err, sizeof err) != 0 || len2 != len ||
        memcmp(out, out2, len) != 0)
        fail("encoding is not stable", out);
    free(out);
    free(out2);
    event_deinit(&a);
    event_deinit(&b);
    return 0;
}

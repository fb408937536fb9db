#include "core/tz.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/xmalloc.h"

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

bool tz_known(const char *tz)
{
    if (!tz || !*tz)
        return true;
    if (tz[0] == '/' || strstr(tz, "..") ||
        strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "abcdefghijklmnopqrstuvwxyz"
                   "0123456789/_+-") != strlen(tz))
        return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int tz_with(const char *tz, int (*fn)(void *arg), void *arg)
{
    if (!tz || !*tz)
        tz = "UTC";
    else if (!tz_known(tz))
        return -EINVAL;
    pthread_mutex_lock(&tz_lock);
    char *old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
    setenv("TZ", tz, 1);
    tzset();
    int rc = fn(arg);
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    pthread_mutex_unlock(&tz_lock);
    free(old);
    return rc;
}

struct conv {
    time_t t;
    struct tm tm;
};

static int do_local(void *arg)
{
    struct conv *c = arg;
    return localtime_r(&c->t, &c->tm) ? 0 : -EINVAL;
}

static int do_instant(void *arg)
{
    struct conv *c = arg;
    c->t = mktime(&c->tm);
    return c->t == (time_t)-1 ? -EINVAL : 0;
}

int tz_local(time_t t, const char *tz, struct tm *out)
{
    if (!tz || !*tz)
        return gmtime_r(&t, out) ? 0 : -EINVAL;
    struct conv c = {.t = t};
    int rc = tz_with(tz, do_local, &c);
    if (rc == 0)
        *out = c.tm;
    return rc;
}

int tz_instant(const struct tm *lt, const char *tz, time_t *t)
{
    struct conv c = {.tm = *lt};
    c.tm.tm_isdst = -1;
    if (!tz || !*tz) {
        *t = timegm(&c.tm);
        return 0;
    }
    int rc = tz_with(tz, do_instant, &c);
    if (rc == 0)
        *t = c.t;
    return rc;
}

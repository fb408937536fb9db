#include "notifier/quiet.h"

#include <stdbool.h>
#include <time.h>

#include "core/tz.h"

static bool inside(int m, int start, int end)
{
    return start < end ? m >= start && m < end : m >= start || m < end;
}

int64_t quiet_until(int64_t now_ms, const char *tz, int start_min, int end_min)
{
    if (start_min < 0 || end_min < 0 || start_min == end_min)
        return now_ms;
    if (!tz_known(tz))
        tz = NULL;
    time_t now = (time_t)(now_ms / 1000);
    struct tm lt;
    if (tz_local(now, tz, &lt) < 0)
        return now_ms;
    int m = lt.tm_hour * 60 + lt.tm_min;
    if (!inside(m, start_min, end_min))
        return now_ms;
    if (m >= end_min) /* the quiet period ends tomorrow morning */
        lt.tm_mday++;
    lt.tm_hour = end_min / 60;
    lt.tm_min = end_min % 60;
    lt.tm_sec = 0;
    time_t end;
    if (tz_instant(&lt, tz, &end) < 0)
        return now_ms;
    return (int64_t)end * 1000;
}

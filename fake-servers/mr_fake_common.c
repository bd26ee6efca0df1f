/* mr_fake_common.c - names shared by the fake servers' modules and engine. */
#include <string.h>

#include "mr_fake.h"

const char *mr_tls_mode_name(mr_tls_mode m)
{
    switch (m) {
    case MR_TLS_NONE: return "none";
    case MR_TLS_IMPLICIT: return "implicit";
    case MR_TLS_STARTTLS: return "starttls";
    }
    return "?";
}

int mr_tls_mode_parse(const char *s, mr_tls_mode *out)
{
    static const mr_tls_mode all[] = {MR_TLS_NONE, MR_TLS_IMPLICIT, MR_TLS_STARTTLS};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, mr_tls_mode_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

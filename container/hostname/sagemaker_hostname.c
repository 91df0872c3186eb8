/*
 * LD_PRELOAD shim: gethostname() answers the job's host name (algo-1, algo-2, ...).
 *
 * On SageMaker every training container gets the same kernel host name, so libraries that
 * identify peers by gethostname() (NCCL, Gloo, MPI) believe all instances are one machine and
 * multi-host jobs hang or fail. SageMaker writes the real name to
 * /opt/ml/input/config/resourceconfig.json ("current_host"); this shim returns that value.
 *
 * Unlike the gethostname extension that ships with sagemaker-training (which the toolkit only
 * preloads into MPI processes, and which crashes when the file is missing), this one falls back
 * to the kernel's host name whenever the file is absent, unreadable or has no current_host, so
 * it is safe to preload into every process of the image (docker run ... bash, pip, builds).
 * SAGEMAKER_BASE_DIR moves /opt/ml, as it does for the toolkit.
 *
 * Build: gcc -O2 -shared -fPIC -o libsagemaker_hostname.so sagemaker_hostname.c -ldl
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CONFIG_BYTES (4 * 1024 * 1024)

/* Reads current_host into out (size bytes); 0 on success, -1 when there is none to use. */
static int current_host(char *out, size_t size)
{
    const char *base = getenv("SAGEMAKER_BASE_DIR");
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/input/config/resourceconfig.json",
                     base && *base ? base : "/opt/ml");
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;

    FILE *file = fopen(path, "re");
    if (!file)
        return -1;
    long size_on_disk = -1;
    if (fseek(file, 0, SEEK_END) == 0)
        size_on_disk = ftell(file);
    if (size_on_disk < 0 || size_on_disk > MAX_CONFIG_BYTES || fseek(file, 0, SEEK_SET) != 0) {
        fclose(file);
        return -1;
    }
    char *json = malloc((size_t)size_on_disk + 1);
    if (!json) {
        fclose(file);
        return -1;
    }
    size_t length = fread(json, 1, (size_t)size_on_disk, file);
    fclose(file);
    json[length] = '\0';

    int result = -1;
    const char *key = strstr(json, "\"current_host\"");
    if (key) {
        const char *p = key + strlen("\"current_host\"");
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ':') {
            p++;
            while (isspace((unsigned char)*p))
                p++;
            if (*p == '"') {
                const char *start = ++p;
                while (*p && *p != '"' && *p != '\\')
                    p++;
                size_t len = (size_t)(p - start);
                if (*p == '"' && len > 0 && len < size) {
                    memcpy(out, start, len);
                    out[len] = '\0';
                    result = 0;
                }
            }
        }
    }
    free(json);
    return result;
}

int gethostname(char *name, size_t len)
{
    if (len > 0 && current_host(name, len) == 0)
        return 0;
    int (*real)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_NEXT, "gethostname");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(name, len);
}

/* A djx job in C, with no SDK: it speaks djx's job protocol (version 1)
 * directly. Built by the tests with Debian's clang for wasm32-wasi
 * (preview 1):
 *
 *     clang-19 --target=wasm32-wasi -O2 -o protocol_job.wasm protocol_job.c
 *
 * or, as a reactor (`run` exported, no `_start`), with
 * `-mexec-model=reactor -DDJX_REACTOR`.
 *
 * It reads its parameters from $DJX_PARAMS, finds the `iris` dataset in
 * $DJX_DATASETS, appends records to $DJX_RECORDS and writes artifacts
 * under $DJX_ARTIFACTS. The parameter `mode` picks what it does: `mean`
 * (a real job: the mean of the first column), or one of the ways a job
 * can go wrong or try to get out, for the tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern char **environ;

/* The whole of a small file, NUL-terminated; NULL if it cannot be read. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

/* The string value of "key" in a flat JSON object (no escapes), copied
 * into out; the empty string if absent. */
static void json_string(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = json ? strstr(json, pattern) : NULL;
    out[0] = '\0';
    if (!at) return;
    at += strlen(pattern);
    size_t i = 0;
    while (at[i] && at[i] != '"' && i + 1 < size) { out[i] = at[i]; i++; }
    out[i] = '\0';
}

static FILE *records;

/* One record line; `rest` is the JSON after the event, or "". */
static void record(const char *event, const char *rest) {
    fprintf(records, "{\"event\":\"%s\"%s}\n", event, rest);
    fflush(records);
}

/* A sandbox probe's record: whether `what` was refused. */
static void probe(const char *what, int refused) {
    char rest[256];
    snprintf(rest, sizeof rest, ",\"context\":{\"attempt\":\"%s\",\"outcome\":\"%s\"}",
             what, refused ? "refused" : "allowed");
    record("probe", rest);
}

static int mean_of_first_column(void) {
    char *datasets = slurp(getenv("DJX_DATASETS"));
    char path[512];
    json_string(datasets, "path", path, sizeof path);
    FILE *csv = fopen(path, "r");
    if (!csv) {
        fprintf(stderr, "cannot open the dataset at %s: %s\n", path, strerror(errno));
        return 1;
    }
    char line[1024];
    double sum = 0;
    long rows = 0;
    fgets(line, sizeof line, csv); /* the header */
    while (fgets(line, sizeof line, csv)) {
        char rest[128];
        sum += strtod(line, NULL);
        rows++;
        if (rows % 50 == 0) {
            snprintf(rest, sizeof rest, ",\"context\":{\"rows\":%ld},\"metrics\":{\"mean\":%.17g}",
                     rows, sum / rows);
            record("progress", rest);
        }
    }
    fclose(csv);
    char summary[600];
    snprintf(summary, sizeof summary, "%s/summary.txt", getenv("DJX_ARTIFACTS"));
    FILE *out = fopen(summary, "w");
    fprintf(out, "rows %ld mean %.17g\n", rows, sum / rows);
    fclose(out);
    snprintf(summary, sizeof summary, "%s/more", getenv("DJX_ARTIFACTS"));
    mkdir(summary, 0755);
    snprintf(summary, sizeof summary, "%s/more/left.txt", getenv("DJX_ARTIFACTS"));
    out = fopen(summary, "w");
    fputs("left without a record\n", out);
    fclose(out);
    char rest[256];
    snprintf(rest, sizeof rest,
             ",\"context\":{\"column\":\"sepal_length\"},\"metrics\":{\"mean\":%.17g,\"rows\":%ld},"
             "\"artifacts\":{\"summary\":\"summary.txt\"}",
             sum / rows, rows);
    record("done", rest);
    printf("mean of %ld rows: %.6f\n", rows, sum / rows);
    return 0;
}

static int job_main(void) {
    char *params = slurp(getenv("DJX_PARAMS"));
    char mode[64];
    json_string(params, "mode", mode, sizeof mode);
    records = fopen(getenv("DJX_RECORDS"), "a");
    if (!records) {
        fprintf(stderr, "cannot open the records file: %s\n", strerror(errno));
        return 1;
    }
    if (strcmp(mode, "noop") == 0) return 0;
    if (strcmp(mode, "mean") == 0) return mean_of_first_column();
    if (strcmp(mode, "exit") == 0) {
        record("started", "");
        fprintf(stderr, "the model did not converge after 100 iterations\n");
        return 3;
    }
    if (strcmp(mode, "bad-line") == 0) {
        record("fine", "");
        fputs("{\"event\": \"broken\", \"metrics\": {\"x\": 1}\n", records);
        fflush(records);
        return 0;
    }
    if (strcmp(mode, "flood") == 0) {
        for (;;) record("again", ",\"metrics\":{\"i\":1}");
    }
    if (strcmp(mode, "big-artifact") == 0) {
        char path[600];
        snprintf(path, sizeof path, "%s/big.bin", getenv("DJX_ARTIFACTS"));
        FILE *out = fopen(path, "w");
        static char block[65536];
        for (int i = 0; i < 64; i++) fwrite(block, 1, sizeof block, out);
        fclose(out);
        return 0;
    }
    if (strcmp(mode, "memory") == 0) {
        /* Kept in a list and summed, so the compiler cannot drop them. */
        static char *blocks[4096];
        long sum = 0;
        for (int i = 0; i < 4096; i++) {
            blocks[i] = malloc(16 << 20);
            if (!blocks[i]) { fprintf(stderr, "malloc failed after %d blocks\n", i); return 4; }
            memset(blocks[i], i, 16 << 20);
            sum += blocks[i][i];
        }
        printf("%ld\n", sum);
        return 0;
    }
    if (strcmp(mode, "sandbox") == 0) {
        probe("read-etc-passwd", fopen("/etc/passwd", "r") == NULL);
        probe("write-dataset", fopen("/data/iris/iris.csv", "a") == NULL);
        probe("create-in-dataset", fopen("/data/iris/new.txt", "w") == NULL);
        probe("write-params", fopen("/djx/in/params.json", "w") == NULL);
        probe("dotdot", fopen("/djx/out/../../etc/passwd", "r") == NULL);
        int foreign = 0;
        for (char **e = environ; *e; e++) foreign += strncmp(*e, "DJX_", 4) != 0;
        probe("env", foreign == 0 && getenv("HOME") == NULL && getenv("PATH") == NULL);
        probe("write-tmp", fopen("/tmp/scratch.txt", "w") == NULL);
        return 0;
    }
    fprintf(stderr, "unknown mode \"%s\"\n", mode);
    return 2;
}

#ifdef DJX_REACTOR
/* Built as a preview-1 reactor (`-mexec-model=reactor -DDJX_REACTOR`), as
 * a WASI CPython is: no `_start`; djx calls the exported `run`, whose
 * result is the exit status. */
__attribute__((export_name("run"))) int run(void) { return job_main(); }
#else
int main(void) { return job_main(); }
#endif

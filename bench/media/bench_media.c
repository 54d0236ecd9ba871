/* Audio encoding benchmark: N two-second clips of 24 kHz mono s16le PCM (what
 * Gemini's speech models send) encoded in process through wb_audio_convert
 * (trim + normalise + encode, the pipeline's real path) versus the original
 * wordbank's way, one ffmpeg process per clip (PCM written to a temp file,
 * fork/exec `ffmpeg -y -f s16le -ar 24000 -ac 1 -i in.pcm -c:a libmp3lame
 * out.mp3` / `-c:a aac out.m4a`, waiting for each), measured in the same run.
 * CPU time is getrusage self + children; wall time from the monotonic clock.
 *
 * Pictures: the loopback fake's 1024x1024 RGB PNGs (its eight variants, files
 * named in WB_BENCH_PNGS, which run.sh writes with the fake's own makePng)
 * through wb_image_process to the default 512 px JPEG (decoded a slice of
 * rows at a time into the scaler, never held whole), versus one `ffmpeg -i
 * in.png -vf scale=512:-2:flags=area out.jpg` per picture; minor page
 * faults per picture show that no full-size buffer is allocated.
 *
 * Environment: WB_BENCH_CLIPS (default 200; also the number of pictures),
 * WB_BENCH_FFMPEG (default "ffmpeg"; "none" skips the baselines),
 * WB_BENCH_PNGS (space-separated PNG files; unset: no picture lines).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wordbank/media.h"

#define RATE         24000
#define CLIP_SECONDS 2

struct meter {
    double cpu0, wall0;
};

static double tv_s(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static long minflt_now(void)
{
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    return self.ru_minflt;
}

static double cpu_now(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return tv_s(self.ru_utime) + tv_s(self.ru_stime) + tv_s(kids.ru_utime) + tv_s(kids.ru_stime);
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void meter_start(struct meter *m)
{
    m->cpu0 = cpu_now();
    m->wall0 = wall_now();
}

/* ms per clip of CPU and wall time since meter_start. */
static void meter_stop(const struct meter *m, int clips, double *cpu_ms, double *wall_ms)
{
    *cpu_ms = (cpu_now() - m->cpu0) * 1000.0 / clips;
    *wall_ms = (wall_now() - m->wall0) * 1000.0 / clips;
}

/* A speech-like clip: 0.25 s of silence at each end, a voiced tone with a
 * few harmonics and a syllable envelope between, a little noise throughout. */
static void make_clip(int k, uint8_t *out, size_t frames)
{
    unsigned s = 1234u + (unsigned)k * 7919u;
    double f0 = 110.0 + 7.0 * (k % 20);
    for (size_t i = 0; i < frames; i++) {
        double t = (double)i / RATE, v = 0;
        s = s * 1103515245u + 12345u;
        if (t > 0.25 && t < CLIP_SECONDS - 0.25) {
            double env = 0.5 - 0.5 * cos(2 * M_PI * 4.0 * (t - 0.25));
            for (int h = 1; h <= 5; h++)
                v += sin(2 * M_PI * f0 * h * t) / h;
            v *= 6000.0 * env;
        }
        v += (double)((int)(s >> 16 & 0xFF) - 128) * 0.5;
        int16_t x = (int16_t)lrint(v);
        out[2 * i] = (uint8_t)((uint16_t)x & 0xFF);
        out[2 * i + 1] = (uint8_t)((uint16_t)x >> 8);
    }
}

/* n calls of one(ud, i, out) in process, timed: CPU and wall a call, bytes
 * out a call; -1 (said) when a call fails. */
static int timed_loop(int n, int (*one)(void *ud, int i, struct wb_buf *out), void *ud,
                      double *cpu_ms, double *wall_ms, double *bytes)
{
    struct wb_buf out;
    struct meter m;
    size_t total = 0;

    wb_buf_init(&out, 0);
    meter_start(&m);
    for (int i = 0; i < n; i++) {
        wb_buf_reset(&out);
        if (one(ud, i, &out) != 0) {
            wb_buf_release(&out);
            return -1;
        }
        total += out.len;
    }
    meter_stop(&m, n, cpu_ms, wall_ms);
    *bytes = (double)total / n;
    wb_buf_release(&out);
    return 0;
}

struct clips_job {
    uint8_t **clips;
    size_t len;
    struct wb_audio_options o;
};

static int encode_one(void *ud, int i, struct wb_buf *out)
{
    struct clips_job *c = ud;
    struct wb_error err = { 0 };
    if (wb_audio_convert(c->clips[i], c->len, &c->o, out, &err) == 0)
        return 0;
    fprintf(stderr, "bench_media: %s encode failed: %s\n", wb_audio_format_ext(c->o.format),
            wb_error_text(&err));
    return -1;
}

static int run_inprocess(uint8_t **clips, int n, size_t len, enum wb_audio_format f, double *cpu_ms,
                         double *wall_ms, double *bytes)
{
    struct clips_job c = { clips, len, { 0 } };
    wb_audio_options_init(&c.o);
    c.o.format = f;
    return timed_loop(n, encode_one, &c, cpu_ms, wall_ms, bytes);
}

static int write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ssize_t w;
    if (fd < 0)
        return -1;
    w = write(fd, data, len);
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}

/* One ffmpeg process, waited for. 0 when it exited 0. */
static int run_ffmpeg(const char *ffmpeg, const char *in, const char *codec, const char *out)
{
    pid_t pid = fork();
    int status = 0;
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        execlp(ffmpeg, ffmpeg, "-nostdin", "-y", "-f", "s16le", "-ar", "24000", "-ac", "1", "-i",
               in, "-c:a", codec, out, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int run_baseline(const char *ffmpeg, const char *dir, uint8_t **clips, int n, size_t len,
                        const char *codec, const char *ext, double *cpu_ms, double *wall_ms,
                        double *bytes)
{
    char in[600], out[600];
    struct meter m;
    struct stat st;
    double total = 0;

    snprintf(in, sizeof in, "%s/in.pcm", dir);
    snprintf(out, sizeof out, "%s/out.%s", dir, ext);
    meter_start(&m);
    for (int i = 0; i < n; i++) {
        if (write_file(in, clips[i], len) < 0 || run_ffmpeg(ffmpeg, in, codec, out) < 0) {
            fprintf(stderr, "bench_media: ffmpeg -c:a %s failed on clip %d\n", codec, i);
            return -1;
        }
        if (stat(out, &st) == 0)
            total += (double)st.st_size;
    }
    meter_stop(&m, n, cpu_ms, wall_ms);
    *bytes = total / n;
    unlink(in);
    unlink(out);
    return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *d = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (d = malloc((size_t)n)) != NULL && fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        d = NULL;
    }
    if (d)
        *len = (size_t)n;
    fclose(f);
    return d;
}

struct pictures_job {
    uint8_t **png;
    size_t *len;
    int npng;
};

static int picture_one(void *ud, int i, struct wb_buf *out)
{
    struct pictures_job *p = ud;
    struct wb_error err = { 0 };
    if (wb_image_process(p->png[i % p->npng], p->len[i % p->npng], 0, WB_IMAGE_JPEG, 0, out, NULL,
                         &err) == 0)
        return 0;
    fprintf(stderr, "bench_media: picture %d: %s\n", i, wb_error_text(&err));
    return -1;
}

/* n pictures, the PNGs in turn, to the default JPEG in process. */
static int run_images(uint8_t **png, size_t *len, int npng, int n, double *cpu_ms, double *wall_ms,
                      double *bytes, double *faults)
{
    struct pictures_job p = { png, len, npng };
    long f0 = minflt_now();
    int rc = timed_loop(n, picture_one, &p, cpu_ms, wall_ms, bytes);
    *faults = (double)(minflt_now() - f0) / n;
    return rc;
}

/* One ffmpeg process a picture: PNG file in, 512 px JPEG out (area filter). */
static int run_images_ffmpeg(const char *ffmpeg, const char *dir, char **paths, int npng, int n,
                             double *cpu_ms, double *wall_ms, double *bytes)
{
    char out[600];
    struct meter m;
    struct stat st;
    double total = 0;

    snprintf(out, sizeof out, "%s/out.jpg", dir);
    meter_start(&m);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        int status = 0;
        if (pid < 0)
            return -1;
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
            }
            execlp(ffmpeg, ffmpeg, "-nostdin", "-y", "-i", paths[i % npng], "-vf",
                   "scale=512:-2:flags=area", out, (char *)NULL);
            _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR)
                return -1;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || stat(out, &st) != 0) {
            fprintf(stderr, "bench_media: ffmpeg failed on picture %d\n", i);
            return -1;
        }
        total += (double)st.st_size;
    }
    meter_stop(&m, n, cpu_ms, wall_ms);
    *bytes = total / n;
    unlink(out);
    return 0;
}

/* The picture lines: 0 done or skipped, -1 failed. */
static int bench_images(const char *ffmpeg, int have_baseline, const char *dir, int n)
{
    const char *env = getenv("WB_BENCH_PNGS");
    char *list, *save = NULL, *paths[16];
    uint8_t *png[16];
    size_t len[16];
    int npng = 0, rc = -1;
    double cpu, wall, bytes, faults, fcpu, fwall, fbytes;

    if (!env || !env[0]) {
        printf("pictures skipped (WB_BENCH_PNGS unset; run.sh sets it)\n");
        return 0;
    }
    list = strdup(env);
    if (!list)
        return -1;
    for (char *t = strtok_r(list, " ", &save); t && npng < 16; t = strtok_r(NULL, " ", &save)) {
        paths[npng] = t;
        png[npng] = read_file(t, &len[npng]);
        if (!png[npng]) {
            fprintf(stderr, "bench_media: cannot read %s\n", t);
            goto out;
        }
        npng++;
    }
    printf("pictures %d (%d PNGs, the fake's 1024x1024 RGB) to 512 px JPEG\n", n, npng);
    if (run_images(png, len, npng, n, &cpu, &wall, &bytes, &faults) < 0)
        goto out;
    printf("png_to_jpeg_streaming_ms_per_picture %.2f\npng_to_jpeg_streaming_wall_ms_per_picture "
           "%.2f\npng_to_jpeg_streaming_bytes_per_picture %.0f\n"
           "png_to_jpeg_streaming_minor_faults_per_picture %.1f\n",
           cpu, wall, bytes, faults);
    fflush(stdout);
    if (have_baseline) {
        if (run_images_ffmpeg(ffmpeg, dir, paths, npng, n, &fcpu, &fwall, &fbytes) < 0)
            goto out;
        printf("png_to_jpeg_ffmpeg_ms_per_picture %.2f\npng_to_jpeg_ffmpeg_wall_ms_per_picture "
               "%.2f\npng_to_jpeg_ffmpeg_bytes_per_picture %.0f\npng_to_jpeg_speedup_cpu %.1f\n"
               "png_to_jpeg_speedup_wall %.1f\n",
               fcpu, fwall, fbytes, fcpu / cpu, fwall / wall);
    }
    rc = 0;
out:
    for (int i = 0; i < npng; i++)
        free(png[i]);
    free(list);
    return rc;
}

int main(void)
{
    const char *env = getenv("WB_BENCH_CLIPS");
    const char *ffmpeg = getenv("WB_BENCH_FFMPEG");
    int n = env ? atoi(env) : 200, rc = 1;
    size_t frames = (size_t)RATE * CLIP_SECONDS, len = frames * 2;
    uint8_t **clips = NULL;
    char dir[] = "/tmp/wb-bench-media-XXXXXX";
    double cpu[3], wall[3], bytes[3], fcpu[2], fwall[2], fbytes[2];
    static const enum wb_audio_format fmts[3] = { WB_AUDIO_MP3, WB_AUDIO_M4A, WB_AUDIO_OPUS };
    static const char *codecs[2] = { "libmp3lame", "aac" };
    int have_baseline;

    if (n <= 0)
        n = 200;
    if (!ffmpeg || !ffmpeg[0])
        ffmpeg = "ffmpeg";
    have_baseline = strcmp(ffmpeg, "none") != 0;
    clips = calloc((size_t)n, sizeof *clips);
    if (!clips || !mkdtemp(dir)) {
        fprintf(stderr, "bench_media: setup failed\n");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        clips[i] = malloc(len);
        if (!clips[i])
            goto out;
        make_clip(i, clips[i], frames);
    }
    printf("settings: %d clips of %d s, s16le 24 kHz mono, encoded to MP3, M4A and Opus in "
           "process\n",
           n, CLIP_SECONDS);
    printf("baseline: the original's way, one %s process per clip (MP3 with libmp3lame, M4A "
           "with aac)\n",
           have_baseline ? ffmpeg : "ffmpeg (skipped)");
    printf("clips %d\nclip_seconds %d\nclip_format s16le_24000hz_mono\n", n, CLIP_SECONDS);

    for (int f = 0; f < 3; f++) {
        const char *x = wb_audio_format_ext(fmts[f]);
        if (run_inprocess(clips, n, len, fmts[f], &cpu[f], &wall[f], &bytes[f]) < 0)
            goto out;
        printf("%s_inprocess_ms_per_clip %.2f\n%s_inprocess_wall_ms_per_clip %.2f\n"
               "%s_inprocess_bytes_per_clip %.0f\n",
               x, cpu[f], x, wall[f], x, bytes[f]);
        fflush(stdout);
    }
    if (have_baseline) {
        for (int f = 0; f < 2; f++) {
            const char *x = wb_audio_format_ext(fmts[f]);
            if (run_baseline(ffmpeg, dir, clips, n, len, codecs[f], x, &fcpu[f], &fwall[f],
                             &fbytes[f]) < 0)
                goto out;
            printf("%s_ffmpeg_ms_per_clip %.2f\n%s_ffmpeg_wall_ms_per_clip %.2f\n"
                   "%s_ffmpeg_bytes_per_clip %.0f\n"
                   "%s_speedup_cpu %.1f\n%s_speedup_wall %.1f\n",
                   x, fcpu[f], x, fwall[f], x, fbytes[f], x, fcpu[f] / cpu[f], x,
                   fwall[f] / wall[f]);
            fflush(stdout);
        }
        printf("mp3_target_8x %s (CPU: in process must be >= 8x cheaper than one ffmpeg per "
               "clip)\n",
               fcpu[0] / cpu[0] >= 8.0 ? "met" : "MISSED");
        rc = fcpu[0] / cpu[0] >= 8.0 ? 0 : 1;
    } else {
        printf("ffmpeg_baseline skipped (WB_BENCH_FFMPEG=none): no threshold checked\n");
        rc = 0;
    }
    if (bench_images(ffmpeg, have_baseline, dir, n) < 0)
        rc = 1;
out:
    if (clips)
        for (int i = 0; i < n; i++)
            free(clips[i]);
    free(clips);
    rmdir(dir);
    return rc;
}

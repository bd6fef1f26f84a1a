// The CPUs this process may use, for the default thread count: its affinity mask (taskset,
// cpusets, Slurm's --cpus-per-task binding, docker --cpuset-cpus) and its cgroup's CPU bandwidth
// limit (docker --cpus, a Kubernetes CPU limit), whichever is smaller. sysconf's count of online
// CPUs sees neither: on a 64-core node a job given 8 of them would start 64 threads, and spinning
// threads that share a CPU wait on each other (SmolLM2's decode under `taskset -c 0` ran at 4.3
// tokens/s with two threads against 68.6 with one).
#define _GNU_SOURCE
#include "assay_kernels.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1 << 20 ? 1 << 20 : (int)n);
}

static int affinity_cpus(void) {
#if defined(__linux__)
    for (int size = 1024; size <= 1 << 20; size *= 8) {
        cpu_set_t *set = CPU_ALLOC(size);
        if (!set) break;
        size_t bytes = CPU_ALLOC_SIZE(size);
        if (sched_getaffinity(0, bytes, set) == 0) {
            int n = CPU_COUNT_S(bytes, set);
            CPU_FREE(set);
            return n > 0 ? n : online_cpus();
        }
        int error = errno;
        CPU_FREE(set);
        if (error != EINVAL) break;  // EINVAL: the kernel's mask is larger than ours
    }
#endif
    return online_cpus();
}

// The first line of the file at `path`, or 0 when it cannot be read.
static int read_line(const char *path, char *line, size_t size) {
    FILE *file = fopen(path, "r");
    if (!file) return 0;
    char *got = fgets(line, (int)size, file);
    fclose(file);
    return got != NULL;
}

// quota / period in CPUs, or 0 for no limit (or values that make no sense).
static double cpus_of(long long quota, long long period) {
    if (quota <= 0 || period <= 0) return 0;
    double n = (double)quota / (double)period;
    return n > (double)(1 << 20) ? (double)(1 << 20) : n;
}

// The limit set in the cgroup directory `dir`: cgroup v2's cpu.max ("max 100000" or "150000
// 100000") when `v2`, v1's cpu.cfs_quota_us and cpu.cfs_period_us otherwise; 0 for none.
static double limit_in(const char *dir, int v2) {
    char path[4096], line[128];
    if (v2) {
        if (snprintf(path, sizeof path, "%s/cpu.max", dir) >= (int)sizeof path || !read_line(path, line, sizeof line)) return 0;
        long long quota, period;
        if (sscanf(line, "%lld %lld", &quota, &period) != 2) return 0;  // "max …": unlimited
        return cpus_of(quota, period);
    }
    long long quota, period;
    if (snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir) >= (int)sizeof path || !read_line(path, line, sizeof line) ||
        sscanf(line, "%lld", &quota) != 1)
        return 0;
    if (snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir) >= (int)sizeof path || !read_line(path, line, sizeof line) ||
        sscanf(line, "%lld", &period) != 1)
        return 0;
    return cpus_of(quota, period);
}

// The smallest limit from `mount` + `path` up through its ancestors to `mount` itself: a limit
// anywhere above the process's cgroup binds it, and inside a container the path the process
// file names may not exist under the container's own mount, whose root is then its cgroup.
static double smallest_limit(const char *mount, const char *path, int v2) {
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s%s", mount, path) >= (int)sizeof dir) return 0;
    size_t base = strlen(mount);
    double smallest = 0;
    for (;;) {
        size_t length = strlen(dir);
        while (length > base && dir[length - 1] == '/') dir[--length] = '\0';
        double limit = limit_in(dir, v2);
        if (limit > 0 && (smallest == 0 || limit < smallest)) smallest = limit;
        char *slash = strrchr(dir + base, '/');
        if (length <= base || !slash) break;
        *slash = '\0';
    }
    return smallest;
}

// The smallest quota / period (in CPUs, fractional) of the cgroups `proc_cgroup` names; 0 for none.
static double cgroup_cpu_quota(const char *proc_cgroup, const char *root) {
    FILE *file = fopen(proc_cgroup, "r");
    if (!file) return 0;
    char line[4096];
    double smallest = 0;
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = '\0';
        // hierarchy-id:controllers:path
        char *first = strchr(line, ':');
        char *second = first ? strchr(first + 1, ':') : NULL;
        if (!second) continue;
        *first = '\0';
        *second = '\0';
        const char *controllers = first + 1, *path = second + 1;
        char mount[4096];
        double limit = 0;
        if (strcmp(line, "0") == 0 && *controllers == '\0') {
            if (snprintf(mount, sizeof mount, "%s", root) < (int)sizeof mount) limit = smallest_limit(mount, path, 1);
            // A hybrid host mounts v2 at unified/.
            double unified = snprintf(mount, sizeof mount, "%s/unified", root) < (int)sizeof mount ? smallest_limit(mount, path, 1) : 0;
            if (unified > 0 && (limit == 0 || unified < limit)) limit = unified;
        } else {
            // v1: the hierarchy whose controllers include cpu, mounted as cpu or cpu,cpuacct.
            int has_cpu = 0;
            char list[4096];
            snprintf(list, sizeof list, "%s", controllers);
            char *rest = NULL;
            for (char *name = strtok_r(list, ",", &rest); name; name = strtok_r(NULL, ",", &rest))
                if (strcmp(name, "cpu") == 0) has_cpu = 1;
            if (!has_cpu) continue;
            const char *names[] = {"cpu", "cpu,cpuacct", "cpuacct,cpu"};
            for (int i = 0; i < 3; i++) {
                if (snprintf(mount, sizeof mount, "%s/%s", root, names[i]) >= (int)sizeof mount) continue;
                double found = smallest_limit(mount, path, 0);
                if (found > 0 && (limit == 0 || found < limit)) limit = found;
            }
        }
        if (limit > 0 && (smallest == 0 || limit < smallest)) smallest = limit;
    }
    fclose(file);
    return smallest;
}

int assay_cgroup_cpu_limit(const char *proc_cgroup, const char *root) {
    double quota = cgroup_cpu_quota(proc_cgroup, root);
    return quota > 0 ? (int)ceil(quota) : 0;
}

// The affinity count and this process's cgroup quota, read once.
static _Atomic int cached_affinity;
static _Atomic double cached_quota = -1;
static void read_cpus(void) {
    if (cached_affinity > 0) return;
    cached_quota = cgroup_cpu_quota("/proc/self/cgroup", "/sys/fs/cgroup");
    cached_affinity = affinity_cpus();
}

// The affinity count, capped by the quota rounded with `round` (ceil or floor); at least 1.
static int cpus_within_quota(double (*round)(double)) {
    read_cpus();
    int n = cached_affinity;
    double quota = cached_quota;
    if (quota > 0 && round(quota) < n) n = (int)round(quota);
    return n < 1 ? 1 : n;
}

int assay_available_cpus(void) { return cpus_within_quota(ceil); }

int assay_whole_cpus(void) { return cpus_within_quota(floor); }

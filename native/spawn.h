// The request the C# runtime passes to moat_spawn(). Its layout is mirrored by
// Moat.Interop.SpawnRequest; tests/native/layout.c checks both against each other.
#ifndef MOAT_SPAWN_H
#define MOAT_SPAWN_H

#include <stdint.h>

#define MOAT_MAX_JOINS 8

// Frame tags on the sync socket between the runtime and the process it spawns.
#define MOAT_FRAME_READY_FOR_SETUP 'R' // child -> runtime: write id maps, place in cgroups
#define MOAT_FRAME_GO 'G'              // runtime -> child: carry on
#define MOAT_FRAME_PID 'P'             // intermediate -> runtime: int32 pid of the forked init
#define MOAT_FRAME_MOUNT_NAMESPACE 'N' // child -> runtime: its new mount namespace (SCM_RIGHTS on one byte after the frame)
#define MOAT_FRAME_ERROR 'E'           // child -> runtime: text of what failed

#define MOAT_SPAWN_EXIT_FAILED 121

// Environment variable naming a mount namespace descriptor that the re-executed binary joins in a
// constructor, before the .NET runtime starts (see moat_enter_container in spawn.c).
#define MOAT_MNTNS_FD_VARIABLE "_MOAT_MNTNS_FD"

// Environment variable telling that constructor to fork once more, into the pid namespace the
// helper joined or unshared (setns/unshare of a pid namespace applies to children only). The fork
// comes after the exec so that no process in the container's pid namespace ever runs the moat
// binary as the host has it (CVE-2019-5736): the child is a copy of the protected view.
#define MOAT_FORK_VARIABLE "_MOAT_FORK_INTO_PID_NS"

struct moat_spawn_request {
    uint64_t clone_flags;   // namespaces created by clone3 itself (no namespace is joined)
    uint64_t unshare_flags; // namespaces created after the joins (some namespace is joined)
    uint64_t late_unshare_flags; // namespaces created after the id maps and cgroup placement
    int32_t join_fds[MOAT_MAX_JOINS];
    int32_t join_types[MOAT_MAX_JOINS];
    const char *join_names[MOAT_MAX_JOINS]; // "setns /path": the step named in an error
    int32_t join_count;
    int32_t sync_fd;     // child's end of the runtime's socketpair
    int32_t runtime_fd;  // the runtime's end: closed in the child, so the runtime's death reads as EOF
    int32_t exec_fd;     // sealed memfd holding the moat binary
    int32_t cgroup_fd;   // cgroup v2 directory for CLONE_INTO_CGROUP, or -1
    int32_t become_root; // setresuid/gid(0) after the maps are written
    int32_t new_time;    // unshare a time namespace before exec
    int32_t send_mount_namespace; // send the new mount namespace to the runtime ('N') before exec
    int32_t keep_count;
    const int32_t *keep_fds; // descriptors that must survive the exec
    const char *timens_offsets; // "monotonic S N\nboottime S N\n", or NULL
    const char *const *argv;
    const char *const *envp;
};

// Returns the child's pid (and its pidfd in *pidfd_out), or -errno.
int moat_spawn(const struct moat_spawn_request *req, int *pidfd_out);

// A bind mount source the runtime opens inside the container's mount namespace (see
// moat_open_mount_sources). Mirrored by Moat.Interop.MountSourceRequest.
struct moat_mount_source {
    const char *path;   // absolute path, resolved in the mount namespace
    int32_t clone_tree; // 1: a detached copy (open_tree OPEN_TREE_CLONE), 0: an O_PATH descriptor
    int32_t recursive;  // with clone_tree: the mounts below path too (AT_RECURSIVE)
    int32_t fd;         // out: the descriptor (close-on-exec), or -1
    int32_t error;      // out: errno when fd is -1
};

// Opens each source with the caller's credentials from inside the mount namespace mntns_fd, in a
// short-lived child that shares the caller's memory and descriptor table. Returns 0 (each source's
// own result in fd/error), or -errno when the child could not start or join the namespace.
int moat_open_mount_sources(int mntns_fd, struct moat_mount_source *sources, int32_t count);

// Starts a process in a new user namespace that does nothing until killed; returns its pid
// (and pidfd), or -errno. The runtime writes its id maps to make an idmapped mount's namespace.
int moat_spawn_userns_holder(int *pidfd_out);

#endif

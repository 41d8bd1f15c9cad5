// Leaves an orphan behind: `sh` starts `sleep` in the background and exits at once, so the
// sleep is re-parented to the nearest subreaper (plugboard) and must be reaped there.
import { spawnSync } from "node:child_process";

export default function () {
  spawnSync("/bin/sh", ["-c", "sleep 0.3 &"], { stdio: "ignore" });
  return null;
}

"""The trust boundary. `launch` starts a sandbox and reads its frames, `cgroups` bounds its
processes and memory, `stage` builds the read-only folder it sees. Everything that runs
INSIDE the sandbox lives in `inside/` (and only there); the stage copies that folder.
"""

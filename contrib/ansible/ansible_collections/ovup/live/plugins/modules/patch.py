#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ovup.live.patch: apply, revert or install an ovup live patch."""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: patch
short_description: Apply, revert or install an ovup live patch
description:
  - Runs ovup on the managed host. C(applied) patches every process that
    maps the object (or the kernel); C(reverted) undoes the patch wherever
    it is applied; C(installed) keeps the object so that it comes back at
    boot (kernel) or at exec (processes, with ovup-watch.service).
  - Idempotent, and check mode runs ovup with --dry-run or only reads.
options:
  src:
    description: The patch on the managed host, a .c file or an object from ovup build.
    type: path
  name:
    description: The patch's name (default, the file name of src without its extension).
    type: str
  state:
    description: What to make true.
    type: str
    choices: [applied, reverted, installed]
    default: applied
  target:
    description: The processes that map the object, or the running kernel.
    type: str
    choices: [processes, kernel]
    default: processes
  object:
    description: With target=processes and a .c src, the program or library (path or build-id).
    type: str
  ovup:
    description: The ovup binary.
    type: path
    default: ovup
"""

EXAMPLES = r"""
- name: CVE-2026-1234 in libz, every process of this build
  ovup.live.patch:
    src: /srv/patches/zlib-cve.o
    state: applied
"""


def run(module, args):
    rc, out, err = module.run_command([module.params["ovup"]] + args)
    return rc, out, err


def last_line(err):
    lines = [l[6:] if l.startswith("ovup: ") else l for l in err.splitlines() if l.strip()]
    return lines[-1] if lines else "no message"


def patch_name(module):
    if module.params["name"]:
        return module.params["name"]
    if not module.params["src"]:
        module.fail_json(msg="give src (the patch) or name")
    return os.path.splitext(os.path.basename(module.params["src"]))[0]


def kernel_has(module, name):
    rc, out, err = run(module, ["list", "-k", "--json"])
    if rc:
        module.fail_json(msg="ovup list -k: " + last_line(err), rc=rc)
    return any(p.get("name") == name for p in json.loads(out).get("patches", []))


def processes_with(module, name):
    """The processes with patch name (in the object given, if a path)."""
    rc, out, err = run(module, ["list", "--all", "--json"])
    if rc:
        module.fail_json(msg="ovup list --all: " + last_line(err), rc=rc)
    doc = json.loads(out)
    obj = module.params["object"]
    obj = os.path.realpath(obj) if obj and "/" in obj else None
    pids = []
    for p in doc.get("processes", []):
        for x in (p.get("list") or {}).get("patches", []):
            objs = {f.get("object") for f in x.get("functions", [])}
            if x.get("name") == name and (not obj or obj in objs):
                pids.append(p["pid"])
    return pids


def applied(module, name, result):
    src, check = module.params["src"], module.check_mode
    if not src:
        module.fail_json(msg="state=applied needs src")
    if module.params["target"] == "kernel":
        if kernel_has(module, name):
            return
        args = ["apply", "-k", "--name", name] + (["--dry-run"] if check else []) + [src]
        rc, out, err = run(module, args)
        if rc:
            module.fail_json(msg="ovup apply -k: " + last_line(err), rc=rc, stdout=out)
        result["changed"] = True
        result["stdout"] = out
        return
    args = ["apply", "--all", "--json", "--name", name]
    if module.params["object"]:
        args += ["--object", module.params["object"]]
    if check:
        args.append("--dry-run")
    rc, out, err = run(module, args + [src])
    try:
        doc = json.loads(out)
    except ValueError:
        module.fail_json(msg="ovup apply --all: " + last_line(err), rc=rc)
    result["processes"] = doc.get("processes", [])
    result["summary"] = doc.get("summary", {})
    if rc:
        bad = [
            "%s (%s): %s" % (p["pid"], p["comm"], p.get("error") or p["result"])
            for p in doc.get("processes", [])
            if p["result"] in ("failed", "other-build")
        ]
        module.fail_json(
            msg="ovup apply --all exited %d: %s" % (rc, "; ".join(bad) or last_line(err)),
            rc=rc,
            processes=result["processes"],
            summary=result["summary"],
        )
    done = doc["summary"].get("planned" if check else "applied", 0)
    result["changed"] = done > 0


def reverted(module, name, result):
    if module.params["target"] == "kernel":
        if not kernel_has(module, name):
            return
        result["changed"] = True
        if module.check_mode:
            return
        rc, out, err = run(module, ["revert", "-k", name])
        if rc:
            module.fail_json(msg="ovup revert -k: " + last_line(err), rc=rc)
        return
    pids = processes_with(module, name)
    result["processes"] = pids
    if not pids:
        return
    result["changed"] = True
    if module.check_mode:
        return
    args = ["revert", "--all", "--json"]
    if module.params["object"]:
        args += ["--object", module.params["object"]]
    rc, out, err = run(module, args + [name])
    if rc:
        module.fail_json(msg="ovup revert --all exited %d: %s" % (rc, last_line(err)), rc=rc)


def installed(module, name, result):
    src = module.params["src"]
    if not src:
        module.fail_json(msg="state=installed needs src")
    rc, out, err = run(module, ["info", "--json", src])
    if rc:
        module.fail_json(msg="ovup info: " + last_line(err), rc=rc)
    info = json.loads(out)
    lib = os.environ.get("OVUP_LIB_DIR") or "/var/lib/ovup"
    if info.get("kernel_release"):
        path = os.path.join(lib, "kernel", info["kernel_release"], name + ".o")
    elif info.get("built_for"):
        path = os.path.join(lib, "process", info["built_for"][0]["build_id"], name + ".o")
    else:
        module.fail_json(msg="%s: records nothing it was built for (not from ovup build)" % src)
    result["path"] = path
    with open(src, "rb") as f:
        want = f.read()
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == want:
                return
    result["changed"] = True
    if module.check_mode:
        return
    rc, out, err = run(module, ["install", "--name", name, src])
    if rc:
        module.fail_json(msg="ovup install: " + last_line(err), rc=rc)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path"),
            name=dict(type="str"),
            state=dict(type="str", default="applied", choices=["applied", "reverted", "installed"]),
            target=dict(type="str", default="processes", choices=["processes", "kernel"]),
            object=dict(type="str"),
            ovup=dict(type="path", default="ovup"),
        ),
        supports_check_mode=True,
    )
    name = patch_name(module)
    result = dict(changed=False, name=name, state=module.params["state"])
    {"applied": applied, "reverted": reverted, "installed": installed}[module.params["state"]](
        module, name, result
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()

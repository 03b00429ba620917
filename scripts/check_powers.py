"""Interim check of a register's powers, steps and posts (issue 25, the format agreed for it).

Until the validator checks these fields (make check refuses them for now), this reads the YAML
directly: ids unique; every active risk names a power and steps of it; measure steps, posts,
sources (issued by the area's first review) and branch targets exist. Remove it once the
validator does this. Usage: python scripts/check_powers.py [catalog]
"""
import re, sys, yaml
from pathlib import Path

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "catalog")
errors, warnings = [], []
def err(msg): errors.append(msg)
reg = yaml.safe_load((folder / "register.yml").read_text())
sources = {s["id"]: s for s in yaml.safe_load((folder / "sources.yml").read_text())["sources"]}
posts_doc = yaml.safe_load((folder / "posts.yml").read_text())
assert set(posts_doc) == {"posts"}, posts_doc.keys()
POST_KEYS = {"id", "title_zh", "title_en", "department_zh", "department_en", "leader_zh", "leader_en"}
posts = {}
for p in posts_doc["posts"]:
    if set(p) - POST_KEYS: err(f"post {p.get('id')}: unknown keys {set(p) - POST_KEYS}")
    if not re.fullmatch(r"[a-z][a-z0-9-]*", p["id"]): err(f"post id {p['id']} not a slug")
    if p["id"] in posts: err(f"post {p['id']} twice")
    for k in ("title", "department", "leader"):
        if (k + "_zh" in p) != (k + "_en" in p): err(f"post {p['id']}: {k}_zh/_en not paired")
    if "title_zh" not in p or "leader_zh" not in p: err(f"post {p['id']}: title and leader expected")
    posts[p["id"]] = p

def src_date(s):
    return s.get("date") or f"{s['year']}-12-31"

POWER_KEYS = {"id", "title_zh", "title_en", "description_zh", "description_en", "posts", "sources", "steps"}
STEP_KEYS = {"id", "title_zh", "title_en", "actor_zh", "actor_en", "post", "days_zh", "days_en", "branches"}
BRANCH_KEYS = {"when_zh", "when_en", "to", "end_zh", "end_en"}
powers, risks, measures, used_posts = {}, {}, {}, set()
area_of_power, area_min_review = {}, {}
for area_id in reg["areas"]:
    doc = yaml.safe_load((folder / f"{area_id}.yml").read_text())
    keys = list(doc)
    if "powers" in doc and keys.index("powers") != keys.index("area") + 1: err(f"{area_id}: powers not right after area")
    prefix = doc["risks"][0]["id"].split("-")[0]
    area_min_review[area_id] = min(r["reviewed"] for r in doc["risks"])
    for pw in doc.get("powers", []):
        pid = pw["id"]
        if set(pw) - POWER_KEYS: err(f"{pid}: unknown keys {set(pw) - POWER_KEYS}")
        if not re.fullmatch(rf"{prefix}-P\d\d", pid): err(f"{pid}: not {prefix}-PNN")
        if pid in powers: err(f"{pid} twice")
        for k in ("title", "description"):
            if (k + "_zh" in pw) != (k + "_en" in pw): err(f"{pid}: {k} not paired")
        if not pw.get("posts"): err(f"{pid}: no posts")
        for p in pw.get("posts", []):
            if p not in posts: err(f"{pid}: unknown post {p}")
            used_posts.add(p)
        if len(set(pw.get("posts", []))) != len(pw.get("posts", [])): err(f"{pid}: post listed twice")
        if not pw.get("sources"): err(f"{pid}: no sources")
        for s in pw.get("sources", []):
            if s not in sources: err(f"{pid}: unknown source {s}")
            elif src_date(sources[s]) > area_min_review[area_id]: err(f"{pid}: source {s} issued {src_date(sources[s])} after the area's first review {area_min_review[area_id]}")
        steps = pw.get("steps", [])
        if len(steps) < 2: err(f"{pid}: fewer than 2 steps")
        ids = [s["id"] for s in steps]
        if len(set(ids)) != len(ids): err(f"{pid}: step ids repeat {ids}")
        for st in steps:
            sid = f"{pid}/{st['id']}"
            if set(st) - STEP_KEYS: err(f"{sid}: unknown keys {set(st) - STEP_KEYS}")
            if not re.fullmatch(r"[a-z][a-z0-9-]*", st["id"]): err(f"{sid}: not a slug")
            for k in ("title", "actor", "days"):
                if (k + "_zh" in st) != (k + "_en" in st): err(f"{sid}: {k} not paired")
            if "title_zh" not in st or "actor_zh" not in st: err(f"{sid}: title and actor expected")
            if "post" in st:
                if st["post"] not in posts: err(f"{sid}: unknown post {st['post']}")
                elif st["post"] not in pw.get("posts", []): warnings.append(f"{sid}: post {st['post']} not among the power's posts")
                used_posts.add(st["post"])
            for b in st.get("branches", []):
                if set(b) - BRANCH_KEYS: err(f"{sid}: branch unknown keys {set(b) - BRANCH_KEYS}")
                if "when_zh" not in b or "when_en" not in b: err(f"{sid}: branch without when_zh/when_en")
                if ("to" in b) == ("end_zh" in b): err(f"{sid}: branch needs exactly one of to / end_zh")
                if ("end_zh" in b) != ("end_en" in b): err(f"{sid}: end not paired")
                if "to" in b and b["to"] not in ids: err(f"{sid}: branch to unknown step {b['to']}")
                if b.get("to") == st["id"]: err(f"{sid}: branch to itself")
        powers[pid] = pw
        area_of_power[pid] = area_id
    for r in doc["risks"]:
        risks[r["id"]] = (area_id, r)
    for m in doc["measures"]:
        measures[m["id"]] = (area_id, m)

for rid, (area_id, r) in risks.items():
    if r.get("status", "active") != "active": continue
    if "power" not in r or not r.get("steps"): err(f"{rid}: no power/steps"); continue
    pw = powers.get(r["power"])
    if pw is None: err(f"{rid}: unknown power {r['power']}"); continue
    ids = [s["id"] for s in pw["steps"]]
    for s in r["steps"]:
        if s not in ids: err(f"{rid}: step {s} not in {r['power']}")
    if len(set(r["steps"])) != len(r["steps"]): err(f"{rid}: step twice")
    if list(r)[-2:] != ["power", "steps"]: warnings.append(f"{rid}: power/steps not last")
    # risk's own review date vs the power's sources
    for s in pw["sources"]:
        if s in sources and src_date(sources[s]) > r["reviewed"]: err(f"{rid}: its power {r['power']} cites {s}, issued after {r['reviewed']}")
for mid, (area_id, m) in measures.items():
    for ref in m.get("steps", []):
        if "/" not in ref: err(f"{mid}: step {ref} not POWER/step"); continue
        pid, sid = ref.split("/", 1)
        if pid not in powers: err(f"{mid}: unknown power {pid}")
        elif sid not in [s["id"] for s in powers[pid]["steps"]]: err(f"{mid}: step {sid} not in {pid}")
    if len(set(m.get("steps", []))) != len(m.get("steps", [])): err(f"{mid}: step twice")

unused = set(posts) - used_posts
if unused: err(f"posts used by no power or step: {sorted(unused)}")
# a measure's steps should be among the steps of the risks it controls (warning)
steps_of_risks = {}
for rid, (a, r) in risks.items():
    for mid in r["measures"]:
        steps_of_risks.setdefault(mid, set()).update(f"{r['power']}/{s}" for s in r.get("steps", []))
        steps_of_risks.setdefault(mid + "#powers", set()).add(r.get("power"))
for mid, (a, m) in measures.items():
    for ref in m.get("steps", []):
        if ref.split("/")[0] not in steps_of_risks.get(mid + "#powers", set()):
            warnings.append(f"{mid}: acts on {ref}, a power none of its risks stands on")
print(f"{len(posts)} posts, {len(powers)} powers, {sum(len(p['steps']) for p in powers.values())} steps, "
      f"{sum(1 for a, r in risks.values() if 'power' in r)}/{len(risks)} risks placed, "
      f"{sum(1 for a, m in measures.values() if m.get('steps'))}/{len(measures)} measures with steps")
for w in warnings: print("warning:", w)
for e in errors: print("ERROR:", e)
sys.exit(1 if errors else 0)

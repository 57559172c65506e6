# The summary of bench/gpu_compare.sh's results.jsonl (one JSON line): per case, our images/s
# against BigGAN-PyTorch's in fp32 and bf16 with issue 22's targets, each lever against the
# default fp32 run of its case, each run's peak memory (the whole run's and the timed iterations'),
# the profiled runs (host time in operators against the iteration's),
# and the NCCL checks. tests/bench/compare_test.sh feeds it rows.
#   python3 bench/gpu_summary.py RESULTS.jsonl
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def find(impl, case, batch, bf16):
    for r in rows:
        if r.get("impl") != impl or r.get("case") != case or r.get("batch_size") != batch:
            continue
        if impl == "ours" and ((r["precision"]["G"] == "bf16") != bf16 or r.get("label") != "default"):
            continue
        if impl == "biggan-pytorch" and r.get("label", "default") != "default":
            continue
        return r
out = {"summary": "gpu_compare", "cases": []}
for case, batch in sorted({(r["case"], r["batch_size"]) for r in rows if "case" in r}):
    bp, fp32, bf16 = find("biggan-pytorch", case, batch, False), find("ours", case, batch, False), find("ours", case, batch, True)
    e = {"case": case, "batch": batch}
    if bp and fp32:
        e["fp32_images_per_second_ratio"] = fp32["real_images_per_second"] / bp["real_images_per_second"]
        e["fp32_target_1.2x_met"] = e["fp32_images_per_second_ratio"] >= 1.2
    if bp and bf16:
        e["bf16_vs_their_fp32"] = bf16["real_images_per_second"] / bp["real_images_per_second"]
        e["bf16_target_2x_met"] = e["bf16_vs_their_fp32"] >= 2
    # The whole run's peak (the first iteration's autotuning workspaces included: bench_bp.py's
    # measure) and ours over the timed iterations alone.
    memory = {name: {k: r[k] for k in ("peak_memory_GiB", "timed_peak_memory_GiB") if r.get(k) is not None}
              for name, r in (("biggan-pytorch_fp32", bp), ("ours_fp32", fp32), ("ours_bf16", bf16)) if r}
    if memory:
        e["memory_GiB"] = memory
    if bf16 and "model_flops_utilization" in bf16:
        e["bf16_mfu"] = bf16["model_flops_utilization"]
        e["bf16_mfu_target_35pct_met"] = bf16["model_flops_utilization"] >= 0.35
    out["cases"].append(e)
out["levers_fp32"], out["profiles"] = [], []
for r in rows:
    if "profile_totals" in r:
        profile = {"impl": r["impl"], "case": r["case"], "batch": r["batch_size"],
                                "precision": r["precision"]["G"] if "precision" in r else "fp32",
                                "median_seconds": r["median_seconds"], **r["profile_totals"],
                                # Without the longest call, the wait for the device on a GPU
                                # (the longest of all the timed iterations' calls: an estimate).
                                "host_share_without_longest_call":
                                    (r["profile_totals"]["host_ms_per_iteration"] - r["profile_totals"]["longest_call_ms"])
                                    / 1000 / r["median_seconds"],
                                "top": [(p["operator"], p["self_ms_per_iteration"], p["calls_per_iteration"])
                                        for p in r["profile"][:8]]}
        # Ours also counts calls per (operator, caller): where the dispatches come from.
        if "profile_callers" in r:
            profile["top_callers"] = [(p["operator"], p["caller"], p["calls_per_iteration"])
                                      for p in r["profile_callers"][:12]]
        out["profiles"].append(profile)
    elif r.get("impl") == "ours" and r.get("label", "default") != "default":
        base = find("ours", r["case"], r["batch_size"], False)
        lever = {"lever": r["label"], "case": r["case"], "batch": r["batch_size"],
                 "median_seconds": r["median_seconds"],
                 "vs_default": r["median_seconds"] / base["median_seconds"] if base else None}
        for k in ("peak_memory_GiB", "timed_peak_memory_GiB"):  # against the default's, where both have it
            if r.get(k) is not None and base and base.get(k):
                lever[k] = r[k]
                lever[k.replace("_GiB", "_vs_default")] = r[k] / base[k]
        out["levers_fp32"].append(lever)
out["nccl_checks"] = [r for r in rows if "check" in r]
print(json.dumps(out))

# Rough processor-sharing model of one GPU: active jobs split it equally, each capped at FMAX; a
# compiling job uses none of it. Work estimates are guesses from the 2026-12-03 reference run.
# python3 schedule_model.py prints the total time and training steps of each plan.
FMAX, DT = 1.0, 0.5  # one job alone gets about all of it (11,000 img/s alone, 11,200 shared)
IMG_S_FULL = 11200  # digit images/s of the whole GPU (probe of 2026-12-03, four jobs)
STEP_COST = {"captcha_text": 4.0}  # GPU work of one training step relative to the digit U-Net's
PRIO = dict(captcha_text=2, mnist_uncond=2)  # --prioritize


def jobs(budgets, compile_s, samp_compile=20):
    J = {}
    def add(name, kind, deps, compile_, work=None, budget=None, prio=0):
        J[name] = dict(kind=kind, deps=deps, compile=compile_, work=work, budget=budget, prio=prio)
    add("prep", "cpu", [], 0, work=60)
    for d in ["mnist", "fashion", "hoda", "captcha"]:
        add(f"cls_{d}", "gpu", ["prep"], 5, work=15)
    for e, b in budgets.items():
        add(f"train_{e}", "train", ["prep"], 15 if e == "mnist_toy" else compile_s, budget=b, prio=PRIO.get(e, 0))
    # sampling work in GPU-seconds at 29k digit img-steps/s (CFG doubles)
    S = {"mnist_uncond": [5000*1000, 5000*10, 5000*20, 5000*50, 5000*100], "mnist_cond": [2*2000*50],
         "fashion_mnist_uncond": [2000*20, 2000*50], "hoda_uncond": [2000*20, 2000*50], "hoda_cond": [2*2000*50],
         "captcha_text": [2*500*50*4], "mnist_toy": [20000, 20000, 20000]}
    for e in budgets:
        ds = {"mnist_uncond": "mnist", "mnist_cond": "mnist", "mnist_toy": "mnist", "fashion_mnist_uncond": "fashion", "hoda_uncond": "hoda", "hoda_cond": "hoda", "captcha_text": "captcha"}[e]
        for i, w in enumerate(S[e]):
            add(f"sample_{e}_{i}", "gpu", [f"train_{e}"], samp_compile, work=w / 29000)
            add(f"eval_{e}_{i}", "gpu", [f"sample_{e}_{i}", f"cls_{ds}"], 5, work=5)
        add(f"fig_{e}", "gpu", [f"train_{e}"], 10, work=10)
    return J

def simulate(budgets, slots, compile_s):
    J = jobs(budgets, compile_s)
    done, running, t, steps = {}, {}, 0.0, {}
    order = list(J)
    while len(done) < len(J):
        used = sum(1 for n in running if J[n]["kind"] != "cpu")
        ready = [n for n in order if n not in done and n not in running and all(d in done for d in J[n]["deps"])]
        ready.sort(key=lambda n: -J[n]["prio"])
        for n in ready:
            if J[n]["kind"] == "cpu":
                running[n] = dict(start=t, left=J[n]["work"]); continue
            if used < slots:
                running[n] = dict(start=t, left=J[n]["work"], gpu=0.0); used += 1
        active = [n for n, r in running.items() if J[n]["kind"] != "cpu" and t - r["start"] >= J[n]["compile"]]
        share = min(FMAX, 1.0 / len(active)) if active else 0
        for n in list(running):
            r, j = running[n], J[n]
            if j["kind"] == "cpu":
                r["left"] -= DT
                if r["left"] <= 0: done[n] = t; del running[n]
                continue
            if n in active: r["gpu"] += share * DT
            if j["kind"] == "train":
                if t - r["start"] >= j["budget"]:
                    steps[n] = r["gpu"] * IMG_S_FULL / 128 / STEP_COST.get(n[len("train_"):], 1.0); done[n] = t; del running[n]
            elif n in active:
                r["left"] -= share * DT
                if r["left"] <= 0: done[n] = t; del running[n]
        t += DT
    return t, {k[6:]: round(v) for k, v in steps.items()}, {k[6:]: round(done[k]) for k in steps}

plans = {
 "prev (gpu=12)": (dict(mnist_uncond=360, mnist_cond=360, fashion_mnist_uncond=300, hoda_uncond=300, hoda_cond=360, captcha_text=540, mnist_toy=60), 12, 120),
}
for s in [3, 4]:
    plans[f"A gpu={s}"] = (dict(mnist_uncond=540, mnist_cond=330, fashion_mnist_uncond=270, hoda_uncond=270, hoda_cond=330, captcha_text=540, mnist_toy=60), s, 75)
    plans[f"B gpu={s}"] = (dict(mnist_uncond=480, mnist_cond=300, fashion_mnist_uncond=240, hoda_uncond=240, hoda_cond=300, captcha_text=480, mnist_toy=60), s, 75)
    plans[f"C gpu={s}"] = (dict(mnist_uncond=420, mnist_cond=300, fashion_mnist_uncond=240, hoda_uncond=240, hoda_cond=300, captcha_text=420, mnist_toy=60), s, 75)
for name, (b, s, c) in plans.items():
    T, st, end = simulate(b, s, c)
    print(f"{name}: total {T/60:.1f} min; steps {st}; train ends {end}")

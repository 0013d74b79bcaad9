"""Paired bootstrap verdicts."""

import pytest

from repro.stats import correctness, paired_bootstrap, verdict


def _models(n, a_right, b_right):
    ids = [f"v{i}" for i in range(n)]
    return ({v: int(i < a_right) for i, v in enumerate(ids)},
            {v: int(i < b_right) for i, v in enumerate(ids)})


def test_clear_win_loss_and_tie():
    a, b = _models(100, 80, 40)
    r = paired_bootstrap(a, b, n=2000)
    assert r["diff"] == pytest.approx(0.4) and r["n"] == 100 and verdict(r) == "holds"
    assert verdict(paired_bootstrap(b, a, n=2000)) == "contradicted"
    a, b = _models(20, 10, 9)
    assert verdict(paired_bootstrap(a, b, n=2000)) == "inconclusive"


def test_pairing_beats_overlapping_intervals():
    """B is right on a subset of A's videos plus nothing else: A - B is >= 0 on every video, so
    the paired interval excludes 0 even where unpaired 95% intervals of 0.60 and 0.50 on 100
    videos would overlap."""
    a, b = _models(100, 60, 50)
    r = paired_bootstrap(a, b, n=4000)
    assert r["ci"][0] > 0 and verdict(r) == "holds"


def test_errors_and_correctness():
    assert correctness([["x", 1, 1], ["y", 2, 0]]) == {"x": 1, "y": 0}
    with pytest.raises(ValueError, match="twice"):
        correctness([["x", 1, 1], ["x", 1, 0]])
    with pytest.raises(ValueError, match="different videos"):
        paired_bootstrap({"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match="no shared"):
        paired_bootstrap({}, {})


def test_contrast_bootstrap_gap_narrowing():
    """(A - B) - (C - D): A beats B on 40 videos, C beats D on 10; the gap narrows by 0.3."""
    from repro.stats import contrast_bootstrap

    a, b = _models(100, 80, 40)
    c, d = _models(100, 60, 50)
    r = contrast_bootstrap([(1, a), (-1, b), (-1, c), (1, d)], n=2000)
    assert r["diff"] == pytest.approx(0.3) and r["n"] == 100 and verdict(r) == "holds"
    with pytest.raises(ValueError, match="different videos"):
        contrast_bootstrap([(1, a), (-1, {"x": 1})])


def test_seeded_bootstrap_is_the_paired_bootstrap_with_one_seed():
    from repro.stats import contrast_bootstrap, seeded_bootstrap

    a, b = _models(60, 40, 30)
    one = seeded_bootstrap([(1, {0: a}), (-1, {0: b})], n=2000)
    ref = paired_bootstrap(a, b, n=2000)
    assert one["ci"] == ref["ci"] and one["diff"] == ref["diff"] and one["seeds"] == 1
    assert contrast_bootstrap([(1, a), (-1, b)], n=2000)["ci"] == ref["ci"]


def test_seeded_bootstrap_pairs_seeds_and_widens_with_their_spread():
    """Two seeds: the estimate averages the per-seed differences; a seed effect (A wins big
    with one seed, loses with the other) widens the interval beyond the videos' alone, and the
    same videos with agreeing seeds give the narrower one."""
    from repro.stats import seeded_bootstrap

    n = 400
    ids = [f"v{i}" for i in range(n)]
    b = {v: int(i % 2 == 0) for i, v in enumerate(ids)}
    hi = {v: int(i % 2 == 0 or i % 10 in (1, 3)) for i, v in enumerate(ids)}  # +0.2 over b
    lo = {v: int(i % 2 == 0 and i % 10 != 0) for i, v in enumerate(ids)}  # -0.1 under b
    spread = seeded_bootstrap([(1, {0: hi, 1: lo}), (-1, {0: b, 1: b})], n=3000)
    agree = seeded_bootstrap([(1, {0: hi, 1: hi}), (-1, {0: b, 1: b})], n=3000)
    assert spread["diff"] == pytest.approx(0.05) and spread["per_seed"] == pytest.approx([0.2, -0.1])
    assert spread["seeds"] == 2 and spread["n"] == n
    w = lambda r: r["ci"][1] - r["ci"][0]  # noqa: E731
    assert w(spread) > 3 * w(agree)
    assert verdict(agree) == "holds" and verdict(spread) == "inconclusive"
    with pytest.raises(ValueError, match="different seeds"):
        seeded_bootstrap([(1, {0: hi, 1: lo}), (-1, {0: b, 2: b})])
    with pytest.raises(ValueError, match="different videos"):
        seeded_bootstrap([(1, {0: hi, 1: lo}), (-1, {0: b, 1: {"x": 1}})])


def test_an_interval_around_zero_within_5_points_is_an_absent_effect():
    assert verdict({"ci": [-0.03, 0.04]}) == "absent"
    assert verdict({"ci": [-0.06, 0.05]}) == "inconclusive"
    assert verdict({"ci": [-0.005, 0.094]}) == "inconclusive"  # narrow, yet allows 9.4 points
    from repro.stats import underpowered

    assert underpowered({"ci": [0.01, 0.20]}) and not underpowered({"ci": [0.01, 0.09]})
    assert verdict({"ci": [0.001, 0.3]}) == "holds"
    assert verdict({"ci": [-0.3, -0.001]}) == "contradicted"


def test_pilot_quantities_recover_a_known_design_and_carry_no_direction():
    """Simulated pilot: per-video effects shared by both seeds plus a per-seed shift; d,
    su2 and sw come back near their values, and swapping A and B changes none of them."""
    import numpy as np

    from repro.power import half_width, pilot_quantities

    rng = np.random.default_rng(0)
    n = 4000
    base = rng.random(n) < 0.6
    flip_a = rng.random(n) < 0.2  # videos where A differs from the base model whatever the seed
    a, b = [], []
    for _ in range(2):
        noise = rng.random(n) < 0.1
        a.append({f"v{i}": int(base[i] ^ flip_a[i] ^ noise[i]) for i in range(n)})
        b.append({f"v{i}": int(base[i]) for i in range(n)})
    q = pilot_quantities(a, b)
    r = pilot_quantities(b, a)
    for k in ("d", "var", "su2", "se2", "rho", "sw"):
        assert q[k] == pytest.approx(r[k])
    assert 0.25 < q["d"] < 0.32 and q["su2"] > 0.1 and q["sw"] < 0.02
    assert half_width(q, 1000, 2) < half_width(q, 400, 2)
    with pytest.raises(ValueError, match="different videos"):
        pilot_quantities([a[0]], [{"x": 1}])


def test_the_seed_term_is_not_halved_at_two_seeds():
    """Two seeds whose differences disagree widely: the bootstrap's seed part is scaled by
    sqrt(2) (resampling 2 of 2 seeds keeps half their variance), so it is wider than the
    unscaled two-way bootstrap's, centred on the same estimate; the verdicts' t interval on
    one degree of freedom is wider again."""

    from repro.stats import seeded_bootstrap

    n = 2000
    ids = [f"v{i}" for i in range(n)]
    b = {v: int(i % 2 == 0) for i, v in enumerate(ids)}
    hi = {v: int(i % 2 == 0 or i % 10 in (1, 3)) for i, v in enumerate(ids)}  # +0.2
    lo = {v: int(i % 2 == 0 and i % 10 != 0) for i, v in enumerate(ids)}  # -0.1
    r = seeded_bootstrap([(1, {0: hi, 1: lo}), (-1, {0: b, 1: b})], n=4000)
    # the seed draw alone: mean of 2 draws from {0.2, -0.1}: 0.05 +- 0.15/sqrt(2) (sd 0.106);
    # scaled by sqrt(2): sd 0.15, so the 95% interval reaches about 0.05 +- 0.15
    assert r["diff"] == pytest.approx(0.05)
    assert r["ci_bootstrap"][0] < -0.08 and r["ci_bootstrap"][1] > 0.18
    # the verdicts' interval at 2 seeds: t on ~1 degree of freedom, far wider still
    assert r["ci"][0] < r["ci_bootstrap"][0] and r["ci"][1] > r["ci_bootstrap"][1]
    # seed means 0.2 and -0.1: SE 0.15, so +-12.706 * 0.15
    assert r["df"] < 1.1 and (r["ci"][1] - r["ci"][0]) / 2 == pytest.approx(12.706 * 0.15, rel=0.02)


def test_seed_spread_of_one_model_prints_no_accuracy(tmp_path, capsys):
    import json

    from repro.power import main, seed_spread

    rising = [{"epoch": e, "acc": 0.1 * e} for e in range(1, 9)]
    flat = [{"epoch": e, "acc": min(0.5, 0.25 * e)} for e in range(1, 9)]
    runs = [{"model": "imrnet", "init": "scratch", "dataset": "ucf", "seed": s, "top1": t,
             "curve": c} for s, (t, c) in enumerate(((0.50, rising), (0.56, flat), (0.62, flat)))]
    sp = seed_spread(runs)
    assert sp["seeds"] == 3 and sp["sd"] == pytest.approx(0.06)
    assert sp["plateau"][0] == "still rising" and sp["plateau"][1] == "plateaued"
    with pytest.raises(ValueError, match="not one model"):
        seed_spread([runs[0], dict(runs[1], model="coviar")])
    with pytest.raises(ValueError, match="repeat a seed"):
        seed_spread([runs[0], dict(runs[1], seed=0)])
    with pytest.raises(ValueError, match=">= 2 runs"):
        seed_spread(runs[:1])
    paths = []
    for r in runs:
        paths.append(tmp_path / f"s{r['seed']}.json")
        paths[-1].write_text(json.dumps(r))
    assert main([str(p) for p in paths]) == 0
    out = capsys.readouterr().out
    assert "SD of test top-1 across seeds 6.00 points" in out
    assert "0.5" not in out and "50" not in out and "62" not in out  # no accuracy printed


def test_t_quantile_matches_the_tables():
    """Student's t quantiles (numpy only) against the published table values, both tails,
    a fractional df, and the normal limit; bad arguments are refused."""
    from repro.stats import t_quantile

    table = {1: 12.7062047, 2: 4.3026527, 3: 3.1824463, 4: 2.7764451, 10: 2.2281389,
             30: 2.0422725}
    for df, t in table.items():
        assert t_quantile(0.975, df) == pytest.approx(t, abs=1e-6)
        assert t_quantile(0.025, df) == pytest.approx(-t, abs=1e-6)
    assert t_quantile(0.95, 5) == pytest.approx(2.0150484, abs=1e-6)
    assert table[2] > t_quantile(0.975, 2.5) > table[3]
    assert t_quantile(0.975, 1e9) == pytest.approx(1.959964, abs=1e-6)
    for p, df in ((0.0, 3), (1.0, 3), (0.9, 0.5)):
        with pytest.raises(ValueError, match="t_quantile"):
            t_quantile(p, df)


def test_seed_video_interval_follows_the_dominant_term():
    """Seeds that disagree far more than the videos vary: df near S - 1 and the interval the
    t interval over the per-seed means; seeds that agree on videos with a shared effect: df
    near V - 1 and a normal-width interval from the shared videos' variance."""
    import math

    import numpy as np

    from repro.stats import seed_video_interval, t_quantile

    rng = np.random.default_rng(0)
    video = rng.normal(0, 1, (500, 1))
    seedy = video * 0.01 + np.array([[0.0, 5.0, -5.0]]) + rng.normal(0, 0.01, (500, 3))
    r = seed_video_interval(seedy)
    assert 2.0 <= r["df"] < 2.1
    means = seedy.mean(0)
    h = t_quantile(0.975, 2) * means.std(ddof=1) / math.sqrt(3)
    assert r["ci"] == pytest.approx([means.mean() - h, means.mean() + h], rel=1e-3)
    agree = np.repeat(video, 3, 1) + rng.normal(0, 0.01, (500, 3))
    r = seed_video_interval(agree)
    assert r["df"] > 400 and r["su2"] == pytest.approx(video.var(ddof=1), rel=0.01)
    assert (r["ci"][1] - r["ci"][0]) / 2 == pytest.approx(1.965 * video.std() / math.sqrt(500), rel=0.02)
    with pytest.raises(ValueError, match="2 seeds"):
        seed_video_interval(np.zeros((5, 1)))


def test_three_seeds_give_a_t_interval_not_the_bootstraps_normal_one():
    """Three seeds whose differences disagree (+8, +2, -4 points) over many concordant videos:
    the seed term dominates, df is near 2, and ``ci`` is about t(2) / z = 2.2 times as wide as
    the bootstrap's percentile interval (kept as ``ci_bootstrap``); seeds that agree leave
    the two about equal."""
    from repro.stats import seeded_bootstrap

    n = 2000
    ids = [f"v{i}" for i in range(n)]
    b = {v: int(i % 2 == 0) for i, v in enumerate(ids)}
    shifted = lambda k: {v: int(i % 2 == 0 or i % 50 < k) for i, v in enumerate(ids)}  # noqa: E731
    down = {v: int(i % 2 == 0 and i % 50 >= 4) for i, v in enumerate(ids)}  # -4 points
    a = {0: shifted(8), 1: shifted(2), 2: down}  # +8, +2 (half the shifted videos are even), -4
    r = seeded_bootstrap([(1, a), (-1, {0: b, 1: b, 2: b})], n=4000)
    assert r["per_seed"] == pytest.approx([0.08, 0.02, -0.04])
    assert r["df"] < 2.5
    lo, hi = r["ci"]
    blo, bhi = r["ci_bootstrap"]
    assert lo < blo < r["diff"] < bhi < hi and (hi - lo) > 1.9 * (bhi - blo)
    # the t interval over the seed means: 0.02 +- 4.30 * 0.06 / sqrt(3) = +-0.149
    assert (hi - lo) / 2 == pytest.approx(0.149, abs=0.01)
    same = seeded_bootstrap([(1, {0: a[0], 1: a[0], 2: a[0]}), (-1, {0: b, 1: b, 2: b})], n=4000)
    w, wb = same["ci"][1] - same["ci"][0], same["ci_bootstrap"][1] - same["ci_bootstrap"][0]
    assert same["df"] > 1000 and 0.6 < w / wb < 1.1


def test_the_power_model_uses_the_t_interval_for_few_seeds():
    """half_width: with a seed effect, 3 seeds cost far more than 1.96 would say (t on ~2
    df), and more seeds shrink it faster than 1/sqrt(S); without one it is the normal one."""
    import math

    from repro.power import half_width

    q = {"su2": 0.0, "se2": 0.1, "sw": 0.03}
    normal = 1.96 * math.sqrt(0.1 / 6000 + 0.03 ** 2 / 3)
    assert half_width(q, 2000, 3) > 1.6 * normal
    assert half_width(q, 2000, 5) < half_width(q, 2000, 3) * math.sqrt(3 / 5) * 0.8
    # no seed effect: the residual's share still rests on S - 1 df (the seeds' means carry
    # it), so t sits between 1.96 and t(2) = 4.30, by the shares of the two terms
    flat = {"su2": 0.05, "se2": 0.1, "sw": 0.0}
    ratio = half_width(flat, 2000, 3) / math.sqrt(0.05 / 2000 + 0.1 / 6000)
    assert 1.96 < ratio < 2.3
    assert half_width(flat, 2000, 1) == pytest.approx(1.96 * math.sqrt(0.05 / 2000 + 0.1 / 2000))


def test_at_three_seeds_the_t_interval_covers_where_the_bootstrap_does_not():
    """The simulation behind power.md's "Three seeds are few", small: 3 seeds whose effect
    dominates the videos' noise, true difference 0. The bootstrap's percentile interval
    misses 0 far more often than 5%; the t interval covers near its nominal 95%."""
    from repro.coverage import simulate

    r = simulate(videos=200, seeds=3, seed_sd=0.15, reps=300, boot=300)
    assert r["ci_bootstrap"]["coverage"] < 0.9 and r["ci"]["coverage"] >= 0.93
    assert r["ci"]["half_width"] > 1.8 * r["ci_bootstrap"]["half_width"]


def test_seeded_bootstrap_compares_cells_on_the_seeds_they_share():
    """A cell with more seeds than the other is compared on the shared ones, exactly as if it
    had only those, and says how many it left out; fewer than 2 shared seeds is refused when
    a cell has more (one would hide the spread the others show), as is no shared seed."""
    from repro.stats import seeded_bootstrap

    ids = [f"v{i}" for i in range(200)]
    m = lambda k: {v: int((i * 7 + k) % 5 < 3) for i, v in enumerate(ids)}  # noqa: E731
    a5 = {s_: m(s_) for s_ in range(5)}
    b3 = {s_: m(10 + s_) for s_ in range(3)}
    r = seeded_bootstrap([(1, a5), (-1, b3)], n=500)
    ref = seeded_bootstrap([(1, {s_: a5[s_] for s_ in range(3)}), (-1, b3)], n=500)
    assert r["seeds_used"] == [0, 1, 2] and r["seeds_left_out"] == [2, 0]
    assert ref["seeds_left_out"] == [0, 0]
    assert {k: r[k] for k in ("diff", "ci", "ci_bootstrap", "df", "per_seed")} == \
        {k: ref[k] for k in ("diff", "ci", "ci_bootstrap", "df", "per_seed")}
    with pytest.raises(ValueError, match="different seeds"):
        seeded_bootstrap([(1, a5), (-1, {0: b3[0], 7: b3[1]})])
    with pytest.raises(ValueError, match="different seeds"):
        seeded_bootstrap([(1, a5), (-1, {7: b3[0], 8: b3[1]})])
    one = seeded_bootstrap([(1, {0: a5[0]}), (-1, {0: b3[0]})], n=500)
    assert one["seeds"] == 1 and one["seeds_left_out"] == [0, 0]

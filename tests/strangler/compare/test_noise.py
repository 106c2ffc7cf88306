"""The noise test: Wilson and Newcombe bounds, and when a field's differences are noise."""

from __future__ import annotations

import pytest

from strangler.compare.noise import NoiseSettings, judge, newcombe_lower, wilson

Z95 = 1.959964  # two-sided 95 %, as in the published examples


def test_wilson_interval_matches_the_published_values():
    assert wilson(5, 10, Z95) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 10, Z95) == pytest.approx((0.0, 0.2775), abs=1e-4)


def test_newcombe_lower_bound_matches_newcombe_1998_method_10():
    # Newcombe (1998), Statistics in Medicine 17:873, table II: 56/70 - 48/80 and 9/10 - 3/10.
    assert newcombe_lower(56, 70, 48, 80, Z95) == pytest.approx(0.0524, abs=1e-4)
    assert newcombe_lower(9, 10, 3, 10, Z95) == pytest.approx(0.1705, abs=1e-4)


def _judge(candidate_diffs, comparisons, base_diffs, base_samples, critical=False):
    settings = NoiseSettings()
    return judge(
        critical=critical,
        candidate_diffs=candidate_diffs,
        comparisons=comparisons,
        base_diffs=base_diffs,
        base_samples=base_samples,
        settings=settings,
        z=settings.z,
    )


def test_a_field_the_base_never_varies_on_is_real_however_rare():
    judgement = _judge(3, 50_000, 0, 5_000)
    assert judgement.real
    assert "0 of 5000 double calls" in judgement.reason


def test_a_field_that_varies_as_often_between_base_calls_is_noise():
    judgement = _judge(25_100, 50_000, 2_480, 5_000)
    assert not judgement.real
    assert judgement.lower_bound is not None
    assert judgement.lower_bound <= 0


def test_a_noisy_field_that_differs_significantly_more_often_is_real():
    judgement = _judge(3_500, 50_000, 100, 5_000)  # 7 % against 2 %
    assert judgement.real
    assert judgement.lower_bound is not None
    assert judgement.lower_bound > 0


def test_a_critical_field_bypasses_the_test():
    assert _judge(1, 50_000, 5_000, 5_000, critical=True).real


@pytest.mark.parametrize(("alpha", "count"), [(0, 5), (0.5, 5), (0.01, 0)])
def test_noise_settings_refuse_values_that_make_no_test(alpha, count):
    with pytest.raises(ValueError):
        NoiseSettings(alpha=alpha, min_noise_count=count)

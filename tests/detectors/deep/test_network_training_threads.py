"""Networks trained in several threads at once are the networks one thread trains.

Dask's thread workers (``LocalCluster(processes=False)``) fit detectors side by side in one
process, where torch's random generator is shared: the same seed must still give the same
weights.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kizashi.detectors.registry import create

pytest.importorskip("torch")


def trained_weights(name: str, values: np.ndarray) -> dict[str, np.ndarray]:
    detector = create(name, window=4, hidden=8, latent=2, epochs=2)
    detector.fit(values)
    return detector.state_["weights"]


@pytest.mark.parametrize("n_threads", [2, 4])
def test_threads_training_at_once_get_the_weights_of_one_thread(n_threads):
    rng = np.random.default_rng(0)
    values = (np.sin(np.arange(400)[:, None] / 10 + np.arange(3))
              + rng.normal(0, 0.3, (400, 3)))
    alone = trained_weights("autoencoder", values)
    together: list[dict[str, np.ndarray] | None] = [None] * n_threads
    start = threading.Barrier(n_threads)

    def train(i: int) -> None:
        start.wait()
        together[i] = trained_weights("autoencoder", values)

    threads = [threading.Thread(target=train, args=(i,)) for i in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for weights in together:
        assert weights is not None and weights.keys() == alone.keys()
        for key in alone:
            np.testing.assert_array_equal(weights[key], alone[key], err_msg=key)

"""scikit-learn's BernoulliRBM (PCD-1, 100 persistent chains, no momentum) on the benchmark's
data: 784 x 500, batch 100, lr 0.05, float32, one epoch = one `fit` with n_iter=1 over all
rows. Run: python3 bench/reference_sklearn.py [--epochs 3] (Debian: apt-get install python3-sklearn)."""
import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM

from reference_common import BATCH, HIDDEN, main


def make_trainer(data, precision):
    rbm = BernoulliRBM(n_components=HIDDEN, learning_rate=0.05, batch_size=BATCH, n_iter=1, random_state=0)

    def epoch(warmup):
        # fit re-initialises the weights; an epoch's work (and time) does not depend on them.
        rbm.fit(data[: BATCH * 5] if warmup else data)

    return epoch, f"sklearn {sklearn.__version__} BernoulliRBM (numpy {np.__version__})"


if __name__ == "__main__":
    main("sklearn", "PCD-1, no momentum, float32", make_trainer)

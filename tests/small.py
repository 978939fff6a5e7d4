"""The small-network settings every test that trains or encodes uses.

Four base channels and two blocks keep every forward pass in milliseconds;
what the tests check (shapes, determinism, fitting, saving) does not depend
on the network's size. Import them: ``from small import SMALL_CNN, SMALL_NET``.
"""

#: CNNFeatureExtractor / make_cnn_svm_pipeline parameters.
SMALL_CNN = dict(base_channels=4, num_layers=2)

#: HHTCNNClassifier / make_end_to_end_pipeline parameters (quiet).
SMALL_NET = dict(module__base_channels=4, module__num_layers=2, verbose=0)

"""Automatic dispatch: a classifier from a demand's text to its 问题领域 (the `topic` field), and from
the topic, through a per-locality table, to the responsible unit.

features.py — what the model reads of a text (rjieba words, stop words out);
ngrams.py — character n-gram counts computed with numpy (fast enough for thousands of messages a second);
model.py — the scikit-learn pipeline, training and prediction with a calibrated confidence;
nbsvm.py — NB-SVM and the logistic regression stacked on its out-of-fold margins (the confidence);
store.py — versioned model directories with a manifest and the `ACTIVE` pointer, the cached active model;
data.py — labelled CSV files and the platform's own closed cases as training data;
training.py — training with a grouped hold-out into a new version, evaluating a stored model;
metrics.py — macro-F1, per-class precision/recall/F1 and the confusion matrix, as text;
groups.py — near-duplicate groups, so cross-validation never splits one message's copies;
routing.py — `mechanisms/insight/dispatch.yaml`: topic → unit, threshold and auto-dispatch per locality;
intake.py — the suggestion stored with a new demand and the system's automatic 派单 above the threshold.
"""

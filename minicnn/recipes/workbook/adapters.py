"""The one place where the workbook calls minicnn's loss functions, whose
argument order is the one thing about them that may change (Keras's losses
take ``(y_true, y_pred)``)."""
from minicnn import functional as F


def softmax_cross_entropy_on_logits(logits, targets):
    """The mean softmax cross-entropy of logits (N, K) against target rows (N, K),
    a scalar Tensor."""
    return F.softmax_cross_entropy(logits, targets)

"""The stages of the training and scoring flows. Each stage function takes its typed input
document and returns its typed output (``modelops.domain.contract``); a Lambda handler calls
exactly one of them. Stages are idempotent: the same input writes the same objects and rows."""

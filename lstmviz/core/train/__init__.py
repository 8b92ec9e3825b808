"""Training an LSTM cell (Qt-free): exact parameter gradients, optimizers, tasks, a chunked trainer.

backprop.py  batched BPTT for W, U, b of every gate, peepholes and the initial state
losses.py    the linear readout y = V h + d with MSE or softmax cross-entropy
optim.py     Adam, SGD, gradient-norm clipping
tasks.py     first-value, adding, brackets, sine, text: batch generators with a difficulty knob
trainer.py   Trainer: run_chunk() between frames, checkpoints for a scrubber
"""

from lstmviz.core.train.backprop import param_gradients
from lstmviz.core.train.tasks import TASKS, Task, make_task
from lstmviz.core.train.trainer import Checkpoint, TrainConfig, Trainer

__all__ = ["TASKS", "Checkpoint", "Task", "TrainConfig", "Trainer", "make_task", "param_gradients"]

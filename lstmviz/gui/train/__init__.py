"""The Train view: train an LSTM live in the window (lstmviz.gui.train.view.TrainView, Alt+8)."""

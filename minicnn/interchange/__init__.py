"""Models in and out of minicnn, in other frameworks' formats.

    hdf5           Keras's HDF5 files: weights (save_weights) and whole models (save)
    keras_config   Keras's JSON of an architecture (model_config) and of compile's arguments
    keras_v3       Keras 3's .keras zip files of whole models (save and load_model)
    onnx_export    an ONNX graph of a model, for ONNX Runtime and other inference engines
    graphviz       a model's layers drawn as Keras draws them (utils.plot_model, model_to_dot)
    tensorboard    TensorBoard's event files (callbacks.TensorBoard writes through it)

``Model.save``, ``save_weights``, ``load_weights``, ``minicnn.models.load_model``
and ``Model.export`` choose among the first four by file name and format.
"""

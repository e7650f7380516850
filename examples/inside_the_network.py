"""Inside a trained network: the first layer's kernels, one image's feature
maps after each convolution, why it classified a few test images as it did
(saliency and Grad-CAM maps), and the autograd graph of its loss. Trains
seed 004's CNN briefly (or loads a model saved by ``minicnn train cnn-seed004``,
with --model PATH)."""
import os

from minicnn import Tensor, no_grad, viz
from minicnn import functional as F
from minicnn.datasets import cifar10
from minicnn.layers import Activation, Conv2D
from minicnn.models import load_model
from minicnn.optimizers import Adam
from minicnn.utils import to_categorical
from minicnn.recipes.zoo import cnn_seed004

import common


def options(parser):
    parser.add_argument('--model', help='a model file (e.g. runs/cnn-seed004/checkpoint.minicnn)')


def feature_maps(model, image):
    """(name, maps) for every Conv2D: its output for one image, after its activation
    (taken from the Activation layer that follows it, where there is one)."""
    outputs, x = [], Tensor(image[None])
    with no_grad():
        for layer in model.layers:
            x = layer(x)
            outputs.append(x.numpy()[0])
    maps = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Conv2D):
            activated = i + 1 < len(model.layers) and isinstance(model.layers[i + 1], Activation)
            maps.append((layer.name, outputs[i + 1 if activated else i]))
    return maps


def explain(model, x, y, out):
    """Saliency and Grad-CAM maps of images x (uint8) for the classes the model
    predicts, each captioned 'true class -> predicted class'."""
    images = (x / 255).astype('float32')
    predicted = model.predict(images).argmax(axis=1)
    captions = [f'{cifar10.CLASSES[t]}\n-> {cifar10.CLASSES[p]}'
                for t, p in zip(y.reshape(-1), predicted)]
    pictures = {'saliency': (viz.saliency(model, images),
                             'saliency: max over channels of |d score / d pixel|'),
                'grad_cam': (viz.grad_cam(model, images), 'Grad-CAM at the last convolution')}
    for name, (maps, title) in pictures.items():
        print('saved', viz.plot_saliency(x, maps, path=os.path.join(out, f'{name}.png'),
                                         titles=captions, title=title))


args = common.parse_args(__doc__, epochs=3, batch_size=128, extra=options)
(x_train, y_train), (x_test, y_test) = common.load(cifar10, args)
if args.model:
    model = load_model(args.model)
else:
    model = cnn_seed004()
    model.compile(loss='categorical_crossentropy', optimizer=Adam(learning_rate=0.001),
                  metrics=['accuracy'])
    model.fit(x_train / 255, to_categorical(y_train, 10), batch_size=args.batch_size,
              epochs=args.epochs)

first_conv = next(layer for layer in model.layers if isinstance(layer, Conv2D))
print('saved', viz.plot_kernels(first_conv, path=os.path.join(args.out, 'kernels.png'),
                                title=f'{first_conv.name}: {first_conv.filters} kernels'))
image = (x_test[0] / 255).astype('float32')
viz.plot_images(x_test[:1], y_test[:1], cifar10.CLASSES, path=os.path.join(args.out, 'image.png'))
for name, maps in feature_maps(model, image):
    print('saved', viz.plot_feature_maps(maps, path=os.path.join(args.out, f'maps_{name}.png'),
                                         title=f'after {name}: {maps.shape}'))
explain(model, x_test[:8], y_test[:8], args.out)
# The graph of one training step's loss on two images, drawn before backward releases it.
two = (x_test[:2] / 255).astype('float32')
loss = F.softmax_cross_entropy(model.logits(two, training=True), to_categorical(y_test[:2], 10))
print('saved', viz.plot_graph(loss, os.path.join(args.out, 'graph.png'), show_grads=True))

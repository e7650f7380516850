"""utils.plot_model and utils.model_to_dot: the boxes, labels and arrows Keras 2
draws, and clear errors where pydot or Graphviz is missing."""
import shutil
import sys

import pytest

from minicnn import layers as L
from minicnn import utils
from minicnn.models import Model, Sequential

needs_dot = pytest.mark.skipif(shutil.which('dot') is None,
                               reason="Graphviz's program dot is not installed")


def cnn():
    return Sequential([L.Conv2D(4, 3, activation='relu', input_shape=(10, 10, 1), name='conv'),
                       L.MaxPooling2D(name='pool'), L.Flatten(name='flat'),
                       L.Dense(2, activation='softmax', name='out')])


def residual():
    images = L.Input(shape=(8, 8, 3), name='images')
    h = L.Conv2D(3, 3, padding='same', name='conv')(images)
    return Model(images, L.Dense(2, name='out')(L.Flatten(name='flat')(
        L.Add(name='add')([h, images]))), name='residual')


def graph(dot):
    """({node name: label}, [(tail, head)]) of a pydot graph, clusters included."""
    nodes, edges = {}, []
    for g in [dot, *dot.get_subgraphs()]:
        nodes.update({n.get_name().strip('"'): n.get('label').strip('"') for n in g.get_nodes()
                      if n.get_name() not in ('node', 'edge', 'graph')})
        edges += [(e.get_source().strip('"'), e.get_destination().strip('"'))
                  for e in g.get_edges()]
    return nodes, edges


def test_a_sequential_model_is_a_chain_from_keras_2_s_input_layer():
    pytest.importorskip('pydot')
    nodes, edges = graph(utils.model_to_dot(cnn()))
    assert nodes == {'conv_input': 'conv_input|InputLayer', 'conv': 'conv|Conv2D',
                     'pool': 'pool|MaxPooling2D', 'flat': 'flat|Flatten', 'out': 'out|Dense'}
    assert edges == [('conv_input', 'conv'), ('conv', 'pool'), ('pool', 'flat'), ('flat', 'out')]


def test_labels_with_every_option_are_keras_2_s_records():
    pytest.importorskip('pydot')
    nodes, _ = graph(utils.model_to_dot(cnn(), show_shapes=True, show_dtype=True,
                                        show_layer_activations=True, show_trainable=True))
    assert nodes['conv'] == ('T|{conv|{Conv2D|relu}|float32}|{input:|output:}|'
                             '{{(None, 10, 10, 1)}|{(None, 8, 8, 4)}}')
    # an InputLayer's shapes are lists; a layer without an activation shows none
    assert nodes['conv_input'] == ('T|{conv_input|InputLayer|float32}|{input:|output:}|'
                                   '{{[(None, 10, 10, 1)]}|{[(None, 10, 10, 1)]}}')
    assert nodes['pool'].startswith('T|{pool|MaxPooling2D|float32}')
    nodes, _ = graph(utils.model_to_dot(cnn(), show_layer_names=False))
    assert nodes['out'] == 'Dense'


def test_a_functional_model_has_an_arrow_per_tensor_passed():
    pytest.importorskip('pydot')
    nodes, edges = graph(utils.model_to_dot(residual(), show_shapes=True))
    assert sorted(edges) == sorted([('images', 'conv'), ('conv', 'add'), ('images', 'add'),
                                    ('add', 'flat'), ('flat', 'out')])
    assert nodes['add'].endswith('{{[(None, 8, 8, 3), (None, 8, 8, 3)]}|{(None, 8, 8, 3)}}')


def test_a_shared_layer_is_one_box_with_the_arrows_of_each_call():
    pytest.importorskip('pydot')
    left, right = L.Input(shape=(8, 8, 3), name='left'), L.Input(shape=(8, 8, 3), name='right')
    conv = L.Conv2D(2, 3, name='shared')
    model = Model([left, right], L.Add(name='add')([conv(left), conv(right)]))
    nodes, edges = graph(utils.model_to_dot(model, show_shapes=True))
    assert sorted(nodes) == ['add', 'left', 'right', 'shared']
    assert nodes['shared'].endswith('{{(None, 8, 8, 3)}|{(None, 6, 6, 2)}}')
    assert sorted(edges) == [('left', 'shared'), ('right', 'shared'), ('shared', 'add')]


def test_expand_nested_draws_a_model_inside_as_a_cluster():
    pytest.importorskip('pydot')
    inner = residual()
    x = L.Input(shape=(8, 8, 3), name='x')
    outer = Model(x, L.Dense(1, name='score')(inner(x)))
    nodes, edges = graph(utils.model_to_dot(outer))
    assert nodes['residual'] == 'residual|Functional'
    assert edges == [('x', 'residual'), ('residual', 'score')]
    dot = utils.model_to_dot(outer, expand_nested=True)
    assert [g.get_name() for g in dot.get_subgraphs()] == ['cluster_residual']
    nodes, edges = graph(dot)
    assert 'residual' not in nodes and 'residual/conv' in nodes
    # into the cluster at its first layer, out of it from its last
    assert ('x', 'residual/images') in edges and ('residual/out', 'score') in edges


@needs_dot
@pytest.mark.parametrize('name, magic', [('model.png', b'\x89PNG'), ('model.pdf', b'%PDF'),
                                         ('model.svg', b'<?xml')])
def test_plot_model_writes_the_format_its_extension_names(tmp_path, name, magic):
    pytest.importorskip('pydot')
    utils.plot_model(residual(), to_file=tmp_path / name, show_shapes=True, rankdir='LR')
    assert (tmp_path / name).read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left


@needs_dot
def test_plot_model_refuses_a_format_graphviz_lacks(tmp_path):
    pytest.importorskip('pydot')
    with pytest.raises(ValueError, match=r"to_file=.*model.docx.*format 'docx'"):
        utils.plot_model(cnn(), to_file=str(tmp_path / 'model.docx'))


def test_keras_arguments_minicnn_lacks_are_refused_by_name():
    pytest.importorskip('pydot')
    with pytest.raises(ValueError, match='layer_range=.*not implemented'):
        utils.model_to_dot(cnn(), layer_range=['conv', 'pool'])
    with pytest.raises(ValueError, match="rankdir=.UD."):
        utils.model_to_dot(cnn(), rankdir='UD')


def test_without_pydot_the_error_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'pydot', None)
    with pytest.raises(ImportError, match='needs the package pydot'):
        utils.plot_model(cnn(), to_file=tmp_path / 'm.png')


def test_without_graphviz_the_error_names_the_program(monkeypatch, tmp_path):
    pytest.importorskip('pydot')
    monkeypatch.setenv('PATH', str(tmp_path))  # a folder without dot
    with pytest.raises(ImportError, match="Graphviz's program dot"):
        utils.plot_model(cnn(), to_file=tmp_path / 'm.png')
    assert not (tmp_path / 'm.png').exists()

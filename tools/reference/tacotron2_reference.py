#!/usr/bin/env python3
"""The repository's PyTorch reference Tacotron 2, for parity tests and the speed comparison.

The architecture of NVIDIA/tacotron2 (model.py, layers.py): module names, parameter order and state-dict keys are
NVIDIA's, so an NVIDIA checkpoint loads with load_state_dict(strict=True) and a state dict written here loads there.
Written for this repository (docs/interop.md, docs/benchmarks.md); needs only PyTorch and numpy. On Debian/Ubuntu:
apt-get install -y python3-torch python3-numpy (build.ps1 test does this when run as root), then /usr/bin/python3.

Modes:
  bench   --preset small|nvidia [--threads 1] [--steps 5]
          one warm-up step, then --steps timed training steps on the protocol's synthetic batch (docs/benchmarks.md);
          prints 'median=S min=S max=S s/step loss=L'
  random  --dims dims.json --out ckpt.pt [--train-steps 2] [--legacy] [--fp16] [--seed 1234]
          a checkpoint as NVIDIA's train.py saves it ({iteration, state_dict, optimizer, learning_rate}) after
          --train-steps Adam steps on a small random batch; --legacy: pre-1.6 pickle container; --fp16: floating
          tensors in half precision except the batch-norm ones (as an fp16 run keeps them)
  forward --checkpoint ckpt.pt --dims dims.json --input in.npz --output out.npz
          teacher-forced forward in eval mode with the prenet's dropout off; the checkpoint may be a train.py dict,
          {state_dict: ...} or a bare state dict, in any precision

dims.json: NVIDIA hyperparameter names (n_symbols, encoder_embedding_dim, ...); missing keys take NVIDIA's defaults.
in.npz: int64 text [B, N], input_lengths [B] (longest first), float32 mel [B, n_mel, T], output_lengths [B].
out.npz: encoder_outputs, mel_outputs, mel_outputs_postnet, gate_outputs, alignments.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# NVIDIA's hparams.py defaults (model part).
NVIDIA = {
    'n_symbols': 148, 'symbols_embedding_dim': 512,
    'encoder_kernel_size': 5, 'encoder_n_convolutions': 3, 'encoder_embedding_dim': 512,
    'n_frames_per_step': 1, 'decoder_rnn_dim': 1024, 'prenet_dim': 256, 'max_decoder_steps': 1000,
    'gate_threshold': 0.5, 'p_attention_dropout': 0.1, 'p_decoder_dropout': 0.1,
    'attention_rnn_dim': 1024, 'attention_dim': 128,
    'attention_location_n_filters': 32, 'attention_location_kernel_size': 31,
    'postnet_embedding_dim': 512, 'postnet_kernel_size': 5, 'postnet_n_convolutions': 5,
    'n_mel_channels': 80, 'mask_padding': True,
}
# The benchmark's 'small' preset (docs/benchmarks.md).
SMALL = {**NVIDIA, 'symbols_embedding_dim': 256, 'encoder_embedding_dim': 256, 'decoder_rnn_dim': 512,
         'attention_rnn_dim': 512, 'prenet_dim': 128, 'postnet_embedding_dim': 256}


def load_dims(path):
    """NVIDIA's defaults overridden by the keys of a dims.json (none when path is empty)."""
    dims = dict(NVIDIA)
    if path:
        with open(path) as f:
            dims.update(json.load(f))
    return dims


def state_dict_of(obj):
    """The state dict inside a train.py checkpoint dict, a {state_dict: ...} dict, or a bare state dict."""
    return obj['state_dict'] if isinstance(obj, dict) and 'state_dict' in obj else obj


def padding_mask(lengths, width):
    """True where a position is beyond its sequence's length: [B, width]."""
    return torch.arange(width, device=lengths.device).unsqueeze(0) >= lengths.unsqueeze(1)


# ----------------------------------------------------------------------------------------------------------- layers

class LinearNorm(nn.Module):
    """nn.Linear at .linear_layer, Xavier-uniform weight scaled by the gain of the following nonlinearity."""

    def __init__(self, n_in, n_out, bias=True, w_init_gain='linear'):
        super().__init__()
        self.linear_layer = nn.Linear(n_in, n_out, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x):
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    """Length-preserving nn.Conv1d (odd kernel) at .conv, initialised as LinearNorm."""

    def __init__(self, n_in, n_out, kernel_size=1, bias=True, w_init_gain='linear'):
        super().__init__()
        assert kernel_size % 2 == 1, 'ConvNorm keeps the length only with an odd kernel'
        self.conv = nn.Conv1d(n_in, n_out, kernel_size, stride=1, padding=kernel_size // 2, dilation=1, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x):
        return self.conv(x)


def conv_bn(n_in, n_out, kernel_size, gain):
    """Convolution then batch norm: keys <i>.0.conv.* and <i>.1.* inside a ModuleList."""
    return nn.Sequential(ConvNorm(n_in, n_out, kernel_size, w_init_gain=gain), nn.BatchNorm1d(n_out))


# ---------------------------------------------------------------------------------------------------------- modules

class Prenet(nn.Module):
    """Bias-free ReLU layers with dropout 0.5 that NVIDIA keeps on at inference too (always_dropout)."""

    def __init__(self, n_in, sizes):
        super().__init__()
        self.layers = nn.ModuleList(LinearNorm(a, b, bias=False) for a, b in zip([n_in] + sizes[:-1], sizes))
        self.always_dropout = True  # parity runs switch it off to compare deterministic outputs

    def forward(self, x):
        for layer in self.layers:
            x = F.dropout(F.relu(layer(x)), p=0.5, training=self.always_dropout or self.training)
        return x


class LocationLayer(nn.Module):
    """Features of the previous and cumulative attention weights: conv over [B, 2, N], then a dense projection."""

    def __init__(self, n_filters, kernel_size, attention_dim):
        super().__init__()
        self.location_conv = ConvNorm(2, n_filters, kernel_size, bias=False)
        self.location_dense = LinearNorm(n_filters, attention_dim, bias=False, w_init_gain='tanh')

    def forward(self, weights_cat):
        return self.location_dense(self.location_conv(weights_cat).transpose(1, 2))


class Attention(nn.Module):
    """Location-sensitive additive attention."""

    def __init__(self, query_dim, memory_dim, attention_dim, n_filters, kernel_size):
        super().__init__()
        self.query_layer = LinearNorm(query_dim, attention_dim, bias=False, w_init_gain='tanh')
        self.memory_layer = LinearNorm(memory_dim, attention_dim, bias=False, w_init_gain='tanh')
        self.v = LinearNorm(attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(n_filters, kernel_size, attention_dim)

    def forward(self, query, memory, processed_memory, weights_cat, pad):
        """query [B, Q], memory [B, N, E], processed_memory [B, N, A], weights_cat [B, 2, N], pad [B, N]."""
        q = self.query_layer(query).unsqueeze(1)
        energies = self.v(torch.tanh(q + self.location_layer(weights_cat) + processed_memory)).squeeze(2)
        weights = F.softmax(energies.masked_fill(pad, float('-inf')), dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


class Encoder(nn.Module):
    """Convolutions with batch norm, ReLU and dropout 0.5, then a bidirectional LSTM over the valid positions."""

    def __init__(self, h):
        super().__init__()
        d = h['encoder_embedding_dim']
        self.convolutions = nn.ModuleList(conv_bn(d, d, h['encoder_kernel_size'], 'relu')
                                          for _ in range(h['encoder_n_convolutions']))
        self.lstm = nn.LSTM(d, d // 2, num_layers=1, batch_first=True, bidirectional=True)

    def forward(self, x, lengths):
        """x [B, E, N] → [B, N, E]."""
        for block in self.convolutions:
            x = F.dropout(F.relu(block(x)), 0.5, self.training)
        width = x.size(2)
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), lengths.cpu(), batch_first=True)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=width)
        return out


class Decoder(nn.Module):
    """Autoregressive decoder, teacher-forced: prenet, attention LSTM, attention, decoder LSTM, projections."""

    def __init__(self, h):
        super().__init__()
        self.h = h
        e, frame = h['encoder_embedding_dim'], h['n_mel_channels'] * h['n_frames_per_step']
        self.prenet = Prenet(frame, [h['prenet_dim'], h['prenet_dim']])
        self.attention_rnn = nn.LSTMCell(h['prenet_dim'] + e, h['attention_rnn_dim'])
        self.attention_layer = Attention(h['attention_rnn_dim'], e, h['attention_dim'],
                                         h['attention_location_n_filters'], h['attention_location_kernel_size'])
        self.decoder_rnn = nn.LSTMCell(h['attention_rnn_dim'] + e, h['decoder_rnn_dim'], bias=True)
        self.linear_projection = LinearNorm(h['decoder_rnn_dim'] + e, frame)
        self.gate_layer = LinearNorm(h['decoder_rnn_dim'] + e, 1, bias=True, w_init_gain='sigmoid')

    def forward(self, memory, mels, memory_lengths):
        """memory [B, N, E], mels [B, n_mel, T] (T a multiple of r) → mel [B, n_mel, T], gate [B, T/r], align [B, T/r, N]."""
        h = self.h
        batch, n, e = memory.shape
        n_mel, r = h['n_mel_channels'], h['n_frames_per_step']
        # Step inputs: a zero go frame, then every r-frame group of the target but the last: [T/r + 1, B, n_mel*r].
        groups = mels.transpose(1, 2).reshape(batch, -1, n_mel * r).transpose(0, 1)
        steps = self.prenet(torch.cat([memory.new_zeros(1, batch, n_mel * r), groups], dim=0))

        att_h = memory.new_zeros(batch, h['attention_rnn_dim'])
        att_c = memory.new_zeros(batch, h['attention_rnn_dim'])
        dec_h = memory.new_zeros(batch, h['decoder_rnn_dim'])
        dec_c = memory.new_zeros(batch, h['decoder_rnn_dim'])
        weights = memory.new_zeros(batch, n)
        cumulative = memory.new_zeros(batch, n)
        context = memory.new_zeros(batch, e)
        processed_memory = self.attention_layer.memory_layer(memory)
        pad = padding_mask(memory_lengths, n)

        frames, gates, alignments = [], [], []
        for t in range(groups.size(0)):
            att_h, att_c = self.attention_rnn(torch.cat([steps[t], context], dim=1), (att_h, att_c))
            att_h = F.dropout(att_h, h['p_attention_dropout'], self.training)
            weights_cat = torch.cat([weights.unsqueeze(1), cumulative.unsqueeze(1)], dim=1)
            context, weights = self.attention_layer(att_h, memory, processed_memory, weights_cat, pad)
            cumulative = cumulative + weights
            dec_h, dec_c = self.decoder_rnn(torch.cat([att_h, context], dim=1), (dec_h, dec_c))
            dec_h = F.dropout(dec_h, h['p_decoder_dropout'], self.training)
            out = torch.cat([dec_h, context], dim=1)
            frames.append(self.linear_projection(out))
            gates.append(self.gate_layer(out).squeeze(1))
            alignments.append(weights)

        mel = torch.stack(frames, dim=1).reshape(batch, -1, n_mel).transpose(1, 2)
        return mel, torch.stack(gates, dim=1), torch.stack(alignments, dim=1)


class Postnet(nn.Module):
    """Residual convolutions: tanh between them, a linear last one; batch norm and dropout 0.5 after each."""

    def __init__(self, h):
        super().__init__()
        n_mel, d, k, count = (h['n_mel_channels'], h['postnet_embedding_dim'], h['postnet_kernel_size'],
                              h['postnet_n_convolutions'])
        sizes = [n_mel] + [d] * (count - 1) + [n_mel]
        self.convolutions = nn.ModuleList(conv_bn(sizes[i], sizes[i + 1], k, 'tanh' if i < count - 1 else 'linear')
                                          for i in range(count))

    def forward(self, x):
        last = len(self.convolutions) - 1
        for i, block in enumerate(self.convolutions):
            x = block(x)
            if i < last:
                x = torch.tanh(x)
            x = F.dropout(x, 0.5, self.training)
        return x


class Tacotron2(nn.Module):
    """Embedding, encoder, decoder, postnet. forward returns (encoder_outputs, mel, mel_postnet, gate, alignments)."""

    def __init__(self, h):
        super().__init__()
        self.h = h
        self.embedding = nn.Embedding(h['n_symbols'], h['symbols_embedding_dim'])
        # Uniform with the standard deviation sqrt(2 / (fan_in + fan_out)).
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (h['n_symbols'] + h['symbols_embedding_dim']))
        nn.init.uniform_(self.embedding.weight, -bound, bound)
        self.encoder = Encoder(h)
        self.decoder = Decoder(h)
        self.postnet = Postnet(h)

    def forward(self, text, text_lengths, mels, output_lengths):
        encoder_outputs = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)
        mel, gate, alignments = self.decoder(encoder_outputs, mels, text_lengths)
        mel_postnet = mel + self.postnet(mel)
        if self.h['mask_padding']:
            pad = padding_mask(output_lengths, mel.size(2))
            mel = mel.masked_fill(pad.unsqueeze(1), 0.0)
            mel_postnet = mel_postnet.masked_fill(pad.unsqueeze(1), 0.0)
            gate = gate.masked_fill(pad, 1e3)  # sigmoid(1e3) = 1: the stop target of padded frames
        return encoder_outputs, mel, mel_postnet, gate, alignments


def loss_fn(mel, mel_postnet, gate, mel_target, gate_target):
    """NVIDIA's Tacotron2Loss: MSE of both mels plus BCE of the gate logits (padding is masked in the outputs)."""
    return (F.mse_loss(mel, mel_target) + F.mse_loss(mel_postnet, mel_target)
            + F.binary_cross_entropy_with_logits(gate.reshape(-1, 1), gate_target.reshape(-1, 1)))


# ----------------------------------------------------------------------------------------------------------- batches

def make_batch(text_lengths, mel_lengths, n_symbols, n_mel, generator):
    """Zero-padded text ids uniform in 1..n_symbols-1, then mel ~ N(-4, 0.5) zeroed beyond each length, gate targets
    1 from the last valid frame on. Draw order: every utterance's ids, then the whole mel tensor (one generator)."""
    batch = len(text_lengths)
    text = torch.zeros(batch, max(text_lengths), dtype=torch.long)
    for i, length in enumerate(text_lengths):
        text[i, :length] = torch.randint(1, n_symbols, (length,), generator=generator)
    frames = max(mel_lengths)
    mel = torch.randn(batch, n_mel, frames, generator=generator) * 0.5 - 4
    gate = torch.zeros(batch, frames)
    for i, length in enumerate(mel_lengths):
        mel[i, :, length:] = 0
        gate[i, length - 1:] = 1
    return text, torch.tensor(text_lengths), mel, gate, torch.tensor(mel_lengths)


def synthetic_batch(preset, n_mel=80):
    """The benchmark protocol's batch (docs/benchmarks.md): generator seeded 0, ids in 1..147.
    Returns text, text_lengths, mel, gate_target, mel_lengths."""
    if preset == 'nvidia':
        text_lengths = [100 - 5 * i for i in range(8)]
        mel_lengths = [400 - 20 * i for i in range(8)]
    elif preset == 'small':
        text_lengths = [40 - i for i in range(16)]
        mel_lengths = [150 - 4 * i for i in range(16)]
    else:
        raise ValueError(f'unknown preset {preset!r} (small or nvidia)')
    return make_batch(text_lengths, mel_lengths, 148, n_mel, torch.Generator().manual_seed(0))


def adam(model):
    """NVIDIA's optimizer settings: Adam, lr 1e-3, weight decay 1e-6."""
    return torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)


def train_step(model, optimizer, batch, clip=None):
    text, text_lengths, mel, gate, mel_lengths = batch
    model.train()
    optimizer.zero_grad()
    _, out, post, g, _ = model(text, text_lengths, mel, mel_lengths)
    loss = loss_fn(out, post, g, mel, gate)
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()


# -------------------------------------------------------------------------------------------------------------- modes

def loaded_blas():
    """The BLAS library this process runs its matrix products with (Debian's torch uses whichever libblas.so.3 the
    alternatives system points at: OpenBLAS is ~10x faster than the reference netlib BLAS)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if '/' in line}
    except OSError:
        return 'unknown'
    for lib in sorted(libs):
        name = os.path.basename(lib)
        if 'openblas' in lib:
            return 'openblas' + ('-pthread' if 'pthread' in lib else '-openmp' if 'openmp' in lib else '')
        if 'mkl' in name:
            return 'mkl'
    for lib in sorted(libs):
        if os.path.basename(lib).startswith('libblas.so'):
            return 'netlib (' + os.path.realpath(lib) + ')'
    return 'unknown'


def run_bench(a):
    model = Tacotron2(NVIDIA if a.preset == 'nvidia' else SMALL)
    optimizer = adam(model)
    batch = synthetic_batch(a.preset)
    seconds = []
    for step in range(a.steps + 1):  # step 0 warms up
        start = time.perf_counter()
        loss = train_step(model, optimizer, batch, clip=1.0)
        if step > 0:
            seconds.append(time.perf_counter() - start)
    params = sum(p.numel() for p in model.parameters())
    print(f'reference preset={a.preset} params={params} threads={a.threads} torch={torch.__version__} blas={loaded_blas()}')
    print(f'median={statistics.median(seconds):.3f} min={min(seconds):.3f} max={max(seconds):.3f} s/step loss={loss:.4f}')


def run_random(a):
    h = load_dims(a.dims)
    model = Tacotron2(h)
    optimizer = adam(model)
    if a.train_steps > 0 and h['n_frames_per_step'] != 1:
        sys.exit('random: NVIDIA\'s Tacotron 2 trains only with n_frames_per_step 1 (its gate mask is per frame); '
                 'use --train-steps 0 for an untrained checkpoint with another value')
    batch = make_batch([17, 13, 9], [41, 33, 21], h['n_symbols'], h['n_mel_channels'], torch.Generator().manual_seed(a.seed))
    for _ in range(a.train_steps):
        train_step(model, optimizer, batch)
    state = model.state_dict()
    if a.fp16:
        norm = tuple(name + '.' for name, m in model.named_modules() if isinstance(m, nn.BatchNorm1d))
        state = {k: v.half() if v.is_floating_point() and not k.startswith(norm) else v for k, v in state.items()}
    checkpoint = {'iteration': a.train_steps, 'state_dict': state, 'optimizer': optimizer.state_dict(),
                  'learning_rate': 1e-3}
    torch.save(checkpoint, a.out, _use_new_zipfile_serialization=not a.legacy)
    print(f'wrote {a.out}: {len(state)} tensors')


def run_forward(a):
    model = Tacotron2(load_dims(a.dims))
    loaded = state_dict_of(torch.load(a.checkpoint, map_location='cpu'))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in loaded.items()}, strict=True)
    model.eval()
    model.decoder.prenet.always_dropout = False
    d = np.load(a.input)
    with torch.no_grad():
        outputs = model(torch.from_numpy(d['text']).long(), torch.from_numpy(d['input_lengths']).long(),
                        torch.from_numpy(d['mel']).float(), torch.from_numpy(d['output_lengths']).long())
    names = ('encoder_outputs', 'mel_outputs', 'mel_outputs_postnet', 'gate_outputs', 'alignments')
    np.savez(a.output, **{name: t.numpy() for name, t in zip(names, outputs)})
    print(f'wrote {a.output}')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('mode', choices=['bench', 'random', 'forward'])
    p.add_argument('--preset', default='small', choices=['small', 'nvidia'], help='bench: model and batch')
    p.add_argument('--threads', type=int, default=1, help='torch intra-op threads')
    p.add_argument('--steps', type=int, default=5, help='bench: timed steps')
    p.add_argument('--dims', help='random, forward: dims.json (default: NVIDIA\'s dimensions)')
    p.add_argument('--out', help='random: checkpoint to write')
    p.add_argument('--train-steps', type=int, default=2, help='random: Adam steps before saving')
    p.add_argument('--legacy', action='store_true', help='random: legacy (pre-1.6) container')
    p.add_argument('--fp16', action='store_true', help='random: half-precision weights')
    p.add_argument('--seed', type=int, default=1234, help='weights and random batch')
    p.add_argument('--checkpoint', help='forward: checkpoint to load')
    p.add_argument('--input', help='forward: input .npz')
    p.add_argument('--output', help='forward: output .npz')
    a = p.parse_args(argv)
    required = {'bench': [], 'random': ['out'], 'forward': ['checkpoint', 'input', 'output']}[a.mode]
    missing = ['--' + name for name in required if getattr(a, name) is None]
    if missing:
        p.error(f'{a.mode} needs {" ".join(missing)}')
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    {'bench': run_bench, 'random': run_random, 'forward': run_forward}[a.mode](a)
    return 0


if __name__ == '__main__':
    sys.exit(main())

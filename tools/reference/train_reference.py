#!/usr/bin/env python3
"""An NVIDIA-compatible Tacotron 2 training loop for the scale-out tests and the adapter's overhead measurement.

The model is tools/reference/tacotron2_reference.py (NVIDIA's architecture and keys); the loop is NVIDIA train.py's
(Adam lr 1e-3 wd 1e-6, gradient clipping, checkpoints {iteration, state_dict, optimizer, learning_rate} that
train.py -c resumes) plus a guided-attention loss and TacotronRecovery's PyTorch adapter
(module/python/tacotron_recovery.py). One process, or several under torchrun (DDP, gloo on CPU, nccl on CUDA):

  torchrun --nproc_per_node 2 --master_addr 127.0.0.1 --master_port 29517 tools/reference/train_reference.py \\
      --filelist mels/filelist.txt --output_directory out --run runs/pt --iterations 20

Data: `TacotronRecovery.Host mels --dataset DIR --out mels --count 32` writes <id>.npy (float32 [n_mel, frames]) and
filelist.txt (`id|token ids|text`), our features and NVIDIA's 148 symbol ids, so no audio code is needed here.

Faults for the tests (docs/scale-out.md): --inject-nan-at STEP (NaN in the loss before backward, or with
--nan-after-backward only in the reported loss, so only the all-reduced verdict makes the other ranks skip),
--nan-storm-from STEP (once per output directory), --collapse-attention-at STEP (attention energies zeroed: uniform attention),
--kill-rank-at RANK:STEP (SIGKILL, once per output directory); --fault-rank limits the NaN faults to one rank.
"""
import argparse
import hashlib
import json
import math
import os
import random
import signal
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tacotron2_reference as ref  # noqa: E402

# A model small enough that a CPU step takes a fraction of a second (the tests' dimensions, 148 symbols).
TINY = {**ref.NVIDIA, 'symbols_embedding_dim': 16, 'encoder_embedding_dim': 16, 'encoder_n_convolutions': 1,
        'attention_rnn_dim': 24, 'decoder_rnn_dim': 24, 'prenet_dim': 16, 'attention_dim': 8,
        'attention_location_n_filters': 4, 'attention_location_kernel_size': 5, 'postnet_embedding_dim': 8,
        'postnet_n_convolutions': 2}
PRESETS = {'tiny': TINY, 'small': ref.SMALL, 'nvidia': ref.NVIDIA}


def dims_from_state_dict(sd, base):
    """NVIDIA hyperparameters read from a state dict's shapes (as Import-TacotronCheckpoint infers them)."""
    h = dict(base)
    h['n_symbols'], h['symbols_embedding_dim'] = sd['embedding.weight'].shape
    convs = sorted({int(k.split('.')[2]) for k in sd if k.startswith('encoder.convolutions.')})
    h['encoder_n_convolutions'] = len(convs)
    h['encoder_embedding_dim'], _, h['encoder_kernel_size'] = sd['encoder.convolutions.0.0.conv.weight'].shape
    h['prenet_dim'] = sd['decoder.prenet.layers.0.linear_layer.weight'].shape[0]
    h['attention_rnn_dim'] = sd['decoder.attention_rnn.weight_hh'].shape[1]
    h['decoder_rnn_dim'] = sd['decoder.decoder_rnn.weight_hh'].shape[1]
    h['attention_dim'] = sd['decoder.attention_layer.query_layer.linear_layer.weight'].shape[0]
    f, _, k = sd['decoder.attention_layer.location_layer.location_conv.conv.weight'].shape
    h['attention_location_n_filters'], h['attention_location_kernel_size'] = f, k
    posts = sorted({int(k.split('.')[2]) for k in sd if k.startswith('postnet.convolutions.')})
    h['postnet_n_convolutions'] = len(posts)
    h['postnet_embedding_dim'], h['n_mel_channels'], h['postnet_kernel_size'] = sd['postnet.convolutions.0.0.conv.weight'].shape
    h['n_frames_per_step'] = sd['decoder.linear_projection.linear_layer.weight'].shape[0] // h['n_mel_channels']
    return {k: int(v) if isinstance(v, (int, np.integer)) or torch.is_tensor(v) else v for k, v in h.items()}


# --------------------------------------------------------------------------------------------------------------- data

def load_filelist(path, mel_dir):
    items = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line:
                continue
            uid, ids, _ = line.split('|', 2)
            mel = np.load(os.path.join(mel_dir, uid + '.npy'))
            items.append((uid, torch.tensor([int(x) for x in ids.split()], dtype=torch.long), torch.from_numpy(mel).float()))
    if not items:
        sys.exit(f'train_reference: {path} lists no utterances')
    return items


def collate(items, r=1):
    """NVIDIA's TextMelCollate: sorted by text length (longest first), zero-padded, gate 1 from the last frame."""
    items = sorted(items, key=lambda x: len(x[1]), reverse=True)
    n = max(len(x[1]) for x in items)
    frames = max(x[2].size(1) for x in items)
    frames += (-frames) % r
    n_mel = items[0][2].size(0)
    text = torch.zeros(len(items), n, dtype=torch.long)
    mel = torch.zeros(len(items), n_mel, frames)
    gate = torch.zeros(len(items), frames)
    for i, (_, ids, m) in enumerate(items):
        text[i, :len(ids)] = ids
        mel[i, :, :m.size(1)] = m
        gate[i, m.size(1) - 1:] = 1
    return ([x[0] for x in items], text, torch.tensor([len(x[1]) for x in items]), mel, gate,
            torch.tensor([x[2].size(1) for x in items]))


def batches(items, batch_size, rank, world, seed):
    """Endless (epoch, batch) stream: each epoch a seeded shuffle, rank r takes every world-th utterance."""
    epoch = 0
    while True:
        order = list(range(len(items)))
        random.Random(seed + epoch).shuffle(order)
        mine = order[rank::world]
        for i in range(0, len(mine) - batch_size + 1, batch_size):
            yield epoch, [items[j] for j in mine[i:i + batch_size]]
        epoch += 1


# --------------------------------------------------------------------------------------------------------------- loss

def guided_attention_loss(alignments, in_lengths, out_lengths, sigma):
    """Mean of A * (1 - exp(-(n/N - t/T)^2 / (2 sigma^2))) over each utterance's valid decoder steps and tokens."""
    b, t_dec, n_enc = alignments.shape
    t = torch.arange(t_dec, dtype=alignments.dtype).unsqueeze(1)
    n = torch.arange(n_enc, dtype=alignments.dtype).unsqueeze(0)
    total, count = alignments.new_zeros(()), 0
    for i in range(b):
        T, N = int(out_lengths[i]), int(in_lengths[i])
        w = 1 - torch.exp(-((n[:, :N] / N - t[:T] / T) ** 2) / (2 * sigma * sigma))
        total = total + (alignments[i, :T, :N] * w).sum()
        count += T * N
    return total / count


def weights_hash(model):
    h = hashlib.sha256()
    for k, v in model.named_parameters():  # parameters only: batch-norm statistics move in every forward
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------------------------------- main

def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--filelist', required=True, help='filelist.txt of the mels verb (id|token ids|text)')
    p.add_argument('--mel-dir', help='folder of <id>.npy (default: the filelist\'s folder)')
    p.add_argument('-o', '--output_directory', required=True, help='checkpoint_<iteration> files go here')
    p.add_argument('-c', '--checkpoint_path', help='resume: iteration, weights, optimizer and learning rate')
    p.add_argument('--run', default=os.environ.get('TACOTRON_RECOVERY_RUN'),
                   help='TacotronRecovery run directory (default: $TACOTRON_RECOVERY_RUN)')
    p.add_argument('--no-adapter', action='store_true', help='train without the adapter (overhead measurement)')
    p.add_argument('--hparams', default='tiny', choices=sorted(PRESETS), help='model dimensions (a resumed checkpoint\'s shapes win)')
    p.add_argument('--iterations', type=int, default=20, help='stop after this iteration')
    p.add_argument('--batch-size', type=int, default=4, help='utterances per rank and step')
    p.add_argument('--learning-rate', type=float, default=1e-3)
    p.add_argument('--grad-clip', type=float, default=1.0)
    p.add_argument('--guided-attention-weight', type=float, default=5.0)
    p.add_argument('--guided-attention-sigma', type=float, default=0.2)
    p.add_argument('--iters-per-checkpoint', type=int, default=10)
    p.add_argument('--attention-every', type=int, default=5, help='adapter: attention matrices every N steps')
    p.add_argument('--seed', type=int, default=1234)
    p.add_argument('--threads', type=int, default=1, help='torch intra-op threads per process')
    p.add_argument('--weights-log', action='store_true', help='append "step skipped hash" per step to weights-rank<R>.txt')
    p.add_argument('--timing', action='store_true', help='rank 0 prints step and adapter timing at the end')
    p.add_argument('--timing-barrier', action='store_true',
                   help='DDP: a timed barrier just before the verdict, so the verdict\'s time excludes the wait for other ranks')
    p.add_argument('--inject-nan-at', type=int, help='NaN in the loss at this iteration')
    p.add_argument('--nan-after-backward', action='store_true', help='--inject-nan-at: the NaN goes only into the reported loss')
    p.add_argument('--nan-storm-from', type=int, help='NaN in the loss at every iteration from this one on (once per output '
                                                      'directory: a process restarted from an earlier checkpoint is healthy)')
    p.add_argument('--fault-rank', type=int, default=-1, help='NaN faults on this rank only (-1: every rank)')
    p.add_argument('--collapse-attention-at', type=int, help='zero the attention energies\' weights at this iteration')
    p.add_argument('--kill-rank-at', help='RANK:ITERATION: that rank SIGKILLs itself at the start of the iteration, once '
                                          '(a marker file in the output directory keeps a restart from dying again)')
    return p.parse_args(argv)


def main(argv=None):
    a = parse(argv)
    torch.set_num_threads(a.threads)
    torch.backends.mkldnn.enabled = False  # oneDNN's CPU convolution backward gave NaN gradients on some machines (docs/engine.md)
    world = int(os.environ.get('WORLD_SIZE', '1'))
    distributed = world > 1
    if distributed:
        torch.distributed.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
    rank = torch.distributed.get_rank() if distributed else 0
    device = torch.device(f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}' if torch.cuda.is_available() else 'cpu')
    kill = tuple(int(x) for x in a.kill_rank_at.split(':')) if a.kill_rank_at else None
    kill_marker = os.path.join(a.output_directory, f'killed-rank{kill[0]}-at-{kill[1]}') if kill else None
    # A storm happens once per output directory: a process restarted (from a checkpoint before it) trains on healthily.
    storm_marker = os.path.join(a.output_directory, f'nan-storm-from-{a.nan_storm_from}')
    storm_armed = a.nan_storm_from is not None and not os.path.exists(storm_marker)

    checkpoint = torch.load(a.checkpoint_path, map_location='cpu') if a.checkpoint_path else None
    h = dims_from_state_dict(checkpoint['state_dict'], PRESETS[a.hparams]) if checkpoint else dict(PRESETS[a.hparams])
    torch.manual_seed(a.seed)
    model = ref.Tacotron2(h).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=a.learning_rate, weight_decay=1e-6)
    learning_rate, iteration = a.learning_rate, 0
    if checkpoint:
        model.load_state_dict(ref.state_dict_of(checkpoint))
        if 'optimizer' in checkpoint:
            optimizer.load_state_dict(checkpoint['optimizer'])
        learning_rate = float(checkpoint.get('learning_rate', learning_rate))
        iteration = int(checkpoint.get('iteration', 0))
        if rank == 0:
            steps = [float(s['step']) for s in optimizer.state_dict()['state'].values() if 'step' in s]
            print(f'resumed {a.checkpoint_path}: iteration {iteration}, learning_rate {learning_rate:g}, '
                  f'adam_step {int(max(steps)) if steps else 0}', flush=True)
    base_lr = learning_rate  # the script's own (constant, as NVIDIA's train.py); the supervisor's knob overrides it
    net = nn.parallel.DistributedDataParallel(model) if distributed else model

    ad = None
    if not a.no_adapter:
        sys.path.insert(0, os.environ.get('TACOTRON_RECOVERY_ADAPTER_DIR', os.path.join(HERE, '..', '..', 'module', 'python')))
        from tacotron_recovery import TacotronRecovery
        if not a.run:
            sys.exit('train_reference: --run (or TACOTRON_RECOVERY_RUN) names the run directory; --no-adapter trains without one')
        ad = TacotronRecovery(a.run, attention_every=a.attention_every, clip_threshold=a.grad_clip,
                              guided_attention_weight=a.guided_attention_weight)

    os.makedirs(a.output_directory, exist_ok=True)
    items = load_filelist(a.filelist, a.mel_dir or os.path.dirname(os.path.abspath(a.filelist)))
    stream = batches(items, min(a.batch_size, max(1, len(items) // world)), rank, world, a.seed)
    weights_log = open(os.path.join(a.output_directory, f'weights-rank{rank}.txt'), 'a') if a.weights_log else None
    step_times, adapter_times, verdict_times, barrier_times = [], [], [], []

    def save(it):
        path = os.path.join(a.output_directory, f'checkpoint_{it}')
        if rank == 0:
            torch.save({'iteration': it, 'state_dict': model.state_dict(), 'optimizer': optimizer.state_dict(),
                        'learning_rate': learning_rate}, path + '.tmp')
            os.replace(path + '.tmp', path)
            if ad:
                ad.checkpoint_saved(path, it)
            print(f'saved {path}', flush=True)
        return path

    stopped = False
    while iteration < a.iterations:
        iteration += 1
        if kill and kill == (rank, iteration) and not os.path.exists(kill_marker):
            open(kill_marker, 'w').close()  # once: a restart that passes this iteration again lives
            print(f'rank {rank}: killing myself at iteration {iteration}', flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        start = time.perf_counter()
        epoch, batch = next(stream)
        ids, text, text_lengths, mel, gate_target, mel_lengths = collate(batch, h['n_frames_per_step'])
        text, text_lengths, mel, gate_target, mel_lengths = (t.to(device) for t in (text, text_lengths, mel, gate_target, mel_lengths))
        t0 = time.perf_counter()
        if ad:
            learning_rate = ad.apply_knobs(optimizer, base_lr)
            clip, ga_weight, amp = ad.clip_threshold, ad.guided_attention_weight, ad.mixed_precision
        else:
            learning_rate = base_lr
            for group in optimizer.param_groups:
                group['lr'] = learning_rate
            clip, ga_weight, amp = a.grad_clip, a.guided_attention_weight, False
        t_adapter = time.perf_counter() - t0
        if a.collapse_attention_at == iteration:
            with torch.no_grad():
                model.decoder.attention_layer.v.linear_layer.weight.zero_()
            if rank == 0:
                print(f'fault: attention energies zeroed at iteration {iteration}', flush=True)

        net.train()
        optimizer.zero_grad()
        with torch.autocast(device.type, dtype=torch.bfloat16 if device.type == 'cpu' else torch.float16, enabled=amp):
            _, out, post, gate, align = net(text, text_lengths, mel, mel_lengths)
        out, post, gate, align = out.float(), post.float(), gate.float(), align.float()
        mel_loss = F.mse_loss(out, mel)
        post_loss = F.mse_loss(post, mel)
        gate_loss = F.binary_cross_entropy_with_logits(gate.reshape(-1, 1), gate_target.reshape(-1, 1))
        ga_loss = guided_attention_loss(align, text_lengths, mel_lengths, a.guided_attention_sigma)
        faulty_rank = a.fault_rank in (-1, rank)
        storm = storm_armed and iteration >= a.nan_storm_from
        if storm and rank == 0 and not os.path.exists(storm_marker):
            open(storm_marker, 'w').close()
        nan_now = faulty_rank and (a.inject_nan_at == iteration or storm)
        if nan_now and not (a.nan_after_backward and a.inject_nan_at == iteration):
            mel_loss = mel_loss * float('nan')  # NaN gradients too, as a real overflow gives
        loss = mel_loss + post_loss + gate_loss + ga_weight * ga_loss
        loss.backward()
        if nan_now and a.nan_after_backward and a.inject_nan_at == iteration:
            mel_loss = mel_loss.detach() + float('nan')
            loss = loss.detach() + float('nan')
        grad_norm = nn.utils.clip_grad_norm_(model.parameters(), clip)
        losses = {'loss': loss, 'mel_loss': mel_loss, 'mel_postnet_loss': post_loss, 'gate_loss': gate_loss,
                  'guided_attention_loss': ga_loss}
        if a.timing_barrier and distributed:
            t0 = time.perf_counter()
            torch.distributed.barrier()  # ranks aligned here: what remains in the verdict is the adapter's own cost
            barrier_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        if ad:
            safe = ad.step_is_safe(losses, grad_norm)
        else:
            safe = all(math.isfinite(float(v)) for v in losses.values()) and math.isfinite(float(grad_norm))
        verdict_times.append(time.perf_counter() - t0)
        t_adapter += verdict_times[-1]
        if safe:
            optimizer.step()
        seconds = time.perf_counter() - start
        t0 = time.perf_counter()
        if ad:
            ad.report(iteration, losses, grad_norm, learning_rate, len(ids) * world, seconds, epoch, skipped=not safe)
            ad.report_attention(iteration, align, mel_lengths, text_lengths, ids)
            stopped = ad.should_stop()
        t_adapter += time.perf_counter() - t0
        step_times.append(time.perf_counter() - start)
        adapter_times.append(t_adapter)
        if weights_log:
            weights_log.write(f'{iteration} {int(not safe)} {weights_hash(model)}\n')
            weights_log.flush()
        if rank == 0 and not ad:
            print(f'iteration {iteration} loss {float(loss):.4f} grad_norm {float(grad_norm):.3f} skipped {not safe}', flush=True)
        if stopped:
            save(iteration)
            break
        if a.iters_per_checkpoint > 0 and iteration % a.iters_per_checkpoint == 0:
            save(iteration)

    if not stopped and (a.iters_per_checkpoint <= 0 or iteration % a.iters_per_checkpoint != 0):
        save(iteration)
    if a.timing and rank == 0 and len(step_times) > 1:
        steps, adapter, verdict = step_times[1:], adapter_times[1:], verdict_times[1:]  # the first step warms up
        print(f'timing: steps={len(steps)} world={world} mean_step={statistics.mean(steps):.4f}s '
              f'median_step={statistics.median(steps):.4f}s mean_adapter={statistics.mean(adapter) * 1000:.3f}ms '
              f'(verdict {statistics.mean(verdict) * 1000:.3f}ms, median {statistics.median(verdict) * 1000:.3f}ms) '
              f'adapter_share={statistics.mean(adapter) / statistics.mean(steps) * 100:.3f}%'
              + (f' barrier_before_verdict={statistics.mean(barrier_times[1:]) * 1000:.3f}ms' if barrier_times else ''), flush=True)
    if ad:
        ad.close()
    if weights_log:
        weights_log.close()
    if distributed:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    if rank == 0:
        print(f'{"stopped" if stopped else "finished"} at iteration {iteration}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""TacotronRecovery's adapter for PyTorch training scripts (NVIDIA's train.py or any fork), one rank or many (DDP).

Python 3 standard library + torch only. Copy this file next to your train.py (Test-TacotronEnvironment's
PyTorchAdapter property says where the module keeps it) and add a few lines (docs/scale-out.md):

    from tacotron_recovery import TacotronRecovery
    ad = TacotronRecovery(run_dir, clip_threshold=hparams.grad_clip_thresh)   # after init_distributed
    for each step:
        lr = ad.apply_knobs(optimizer)                                     # knobs the supervisor set (knobs.json)
        ... forward, loss, backward ...
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), ad.clip_threshold)
        skipped = not ad.step_is_safe(losses, grad_norm)                  # every rank gets the same verdict
        if not skipped:
            optimizer.step()
        ad.report(iteration, losses, grad_norm, lr, batch_size, step_seconds, epoch, skipped)
        ad.report_attention(iteration, alignments, output_lengths, input_lengths, ids)
        if ad.should_stop(): save a checkpoint, ad.checkpoint_saved(path, iteration), exit 0

The run directory has TacotronRecovery's layout (docs/run-directory.md): rank 0 appends metrics.jsonl and
events.jsonl and writes attention/step-NNNNNN.json, and reads knobs.json and stop.request, which it shares with the
other ranks in the one all-reduce per step (so only rank 0's node needs the run directory). The contract with the
supervisor is docs/scale-out.md.
"""
import datetime
import json
import math
import os
import zlib

import torch

__all__ = ['TacotronRecovery']

KNOBS = 'knobs.json'
STOP = 'stop.request'
METRICS = 'metrics.jsonl'
EVENTS = 'events.jsonl'
ATTENTION_DIR = 'attention'
RUN_ENV = 'TACOTRON_RECOVERY_RUN'

# losses keys: our metrics field, then the short names a script may use.
_COMPONENTS = (('mel_loss', 'mel'), ('mel_postnet_loss', 'mel_postnet'), ('gate_loss', 'gate'),
               ('guided_attention_loss', 'guided_attention'), ('mmi_loss', 'mmi'))


def _number(x):
    """A float for JSON in the run directory's dialect: non-finite numbers as the strings NaN, Infinity, -Infinity."""
    x = float(x)
    if math.isnan(x):
        return 'NaN'
    if math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    return x


def _invariant(x):
    """A float as .NET's invariant ToString writes it in event evidence (NaN, Infinity, -Infinity)."""
    x = _number(x)
    return x if isinstance(x, str) else repr(x)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _append(path):
    """The JSON-lines file opened for appending; a last line cut short (a process killed mid-write) is ended first, so
    the next record starts on its own line."""
    f = open(path, 'a+b')
    if f.tell() > 0:
        f.seek(-1, os.SEEK_END)
        if f.read(1) != b'\n':
            f.write(b'\n')
    f.close()
    return open(path, 'a', encoding='utf-8')


class TacotronRecovery:
    """One per process, created on every rank after init_process_group (in DDP the constructor shares rank 0's knobs,
    a collective). rank/world_size: from torch.distributed when it is initialised, else the RANK/WORLD_SIZE
    environment torchrun sets, else 0/1. run_dir: default $TACOTRON_RECOVERY_RUN (the supervisor sets it).
    The keyword defaults are the script's own values, used while knobs.json leaves a knob null."""

    def __init__(self, run_dir=None, rank=None, world_size=None, attention_every=100, *, clip_threshold=1.0,
                 guided_attention_weight=0.0, mixed_precision=False, run_name=None, frames_per_step=1):
        run_dir = run_dir or os.environ.get(RUN_ENV)
        if not run_dir:
            raise ValueError(f'TacotronRecovery needs a run directory: pass run_dir or set {RUN_ENV}')
        self.run_dir = os.path.abspath(run_dir)
        dist = torch.distributed
        self._dist = dist.is_available() and dist.is_initialized()
        self.rank = rank if rank is not None else dist.get_rank() if self._dist else int(os.environ.get('RANK', 0))
        self.world_size = (world_size if world_size is not None else dist.get_world_size() if self._dist
                           else int(os.environ.get('WORLD_SIZE', 1)))
        self._collective = self._dist and self.world_size > 1
        self.is_writer = self.rank == 0
        self.run = run_name or os.path.basename(self.run_dir.rstrip(os.sep))
        self.attention_every = int(attention_every)
        self.frames_per_step = int(frames_per_step)
        self._defaults = {'clip_threshold': float(clip_threshold), 'guided_attention_weight': float(guided_attention_weight),
                          'mixed_precision': bool(mixed_precision)}
        self._knobs_path = os.path.join(self.run_dir, KNOBS)
        self._stop_path = os.path.join(self.run_dir, STOP)
        self._knobs = {}          # in force (the same on every rank)
        self._staged = None       # (ident, dict) read from the file, not yet in force
        self._knobs_stamp = None  # (mtime_ns, size) of the file last read
        self._stop = False
        self._stop_fresh = False  # step_is_safe agreed on stop since should_stop last looked
        self._last = None         # this rank's losses and grad norm as floats, from step_is_safe
        self._metrics = self._events = None
        if self.is_writer:
            os.makedirs(os.path.join(self.run_dir, ATTENTION_DIR), exist_ok=True)
            self._metrics = _append(os.path.join(self.run_dir, METRICS))
            self._events = _append(os.path.join(self.run_dir, EVENTS))
        self.knobs()
        if self._collective:  # the knobs in force at the start (a restart in safe mode): rank 0's, on every rank
            box = [self._staged[1] if self.is_writer and self._staged is not None else None]
            torch.distributed.broadcast_object_list(box, src=0)
            if box[0] is not None:
                self._knobs = box[0]
            self._staged = None

    # ---------------------------------------------------------------------------------------------------- knobs

    def _refresh_knobs(self):
        """Stages knobs.json when its mtime or size changed (one stat per call). In DDP only rank 0 reads the file and
        shares it with the others (so other nodes need not see the run directory)."""
        if self._collective and not self.is_writer:
            return
        try:
            st = os.stat(self._knobs_path)
        except FileNotFoundError:
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._knobs_stamp:
            return
        try:
            with open(self._knobs_path, 'rb') as f:
                raw = f.read()
            knobs = json.loads(raw.decode('utf-8'))
            if not isinstance(knobs, dict):
                raise ValueError('not a JSON object')
        except (OSError, ValueError) as e:  # the supervisor writes atomically; anything else waits for the next write
            self._warn(f'{KNOBS} not read ({e}); the knobs in force stay')
            self._knobs_stamp = stamp
            return
        self._knobs_stamp = stamp
        version = knobs.get('version')
        ident = int(version) if isinstance(version, (int, float)) and not isinstance(version, bool) else zlib.crc32(raw)
        self._staged = (max(0, ident), knobs)

    def knobs(self):
        """The knobs in force (knobs.json as the supervisor last wrote it; {} before). Without DDP a changed file
        applies at once; in DDP rank 0 reads it and every rank switches at the same step_is_safe."""
        self._refresh_knobs()
        if not self._collective and self._staged is not None:
            self._knobs = self._staged[1]
            self._staged = None
        return dict(self._knobs)

    def _knob(self, name):
        value = self._knobs.get(name)
        return self._defaults[name] if value is None else value

    @property
    def learning_rate(self):
        """The supervisor's learning rate, or None (the script's own schedule)."""
        value = self._knobs.get('learning_rate')
        return None if value is None else float(value)

    @property
    def clip_threshold(self):
        return float(self._knob('clip_threshold'))

    @property
    def guided_attention_weight(self):
        """0 while the supervisor has guided attention disabled."""
        if self._knobs.get('guided_attention_enabled') is False:
            return 0.0
        return float(self._knob('guided_attention_weight'))

    @property
    def mixed_precision(self):
        return bool(self._knob('mixed_precision'))

    @property
    def safe_mode_level(self):
        return int(self._knobs.get('safe_mode_level') or 0)

    @property
    def mode(self):
        return str(self._knobs.get('mode') or 'Normal')

    @property
    def skip_nonfinite(self):
        return self._knobs.get('skip_nonfinite') is not False

    def apply_knobs(self, optimizer, learning_rate=None):
        """Reads the knobs and sets the supervisor's learning rate (when not null) on every param group of optimizer.
        Returns the learning rate in force: the knob's, else learning_rate (the script's schedule), else the first
        group's."""
        self.knobs()
        lr = self.learning_rate
        if lr is None:
            lr = learning_rate
        if lr is not None:
            for group in optimizer.param_groups:
                group['lr'] = lr
            return float(lr)
        return float(optimizer.param_groups[0]['lr'])

    # ----------------------------------------------------------------------------------------------------- verdict

    def step_is_safe(self, losses, grad_norm):
        """True when every loss component and the gradient norm are finite on every rank (one all-reduce of three
        integers in DDP, which also carries rank 0's stop request and new knobs). False: do not call optimizer.step()."""
        names = [k for k, v in losses.items() if v is not None]
        items = [losses[k] for k in names] + [grad_norm]
        device = next((v.device for v in items if torch.is_tensor(v)), torch.device('cpu'))
        # One device-to-host copy for all of them (one synchronisation on a GPU).
        numbers = torch.stack([v.detach().reshape(()).float().to(device) if torch.is_tensor(v)
                               else torch.tensor(float(v), device=device) for v in items]).cpu().tolist()
        self._last = (dict(zip(names, numbers[:-1])), numbers[-1])
        bad = not all(math.isfinite(x) for x in numbers)
        self._refresh_knobs()
        if self._collective:
            # One all-reduce (MAX): any rank non-finite; rank 0 saw stop.request; rank 0 has new knobs (their id).
            stop = self.is_writer and os.path.exists(self._stop_path)
            staged = self._staged[0] if self._staged is not None else -1
            flags = torch.tensor([int(bad), int(stop), staged], dtype=torch.int64)
            torch.distributed.all_reduce(flags, op=torch.distributed.ReduceOp.MAX)
            bad, stop = bool(flags[0]), bool(flags[1])
            if int(flags[2]) >= 0:  # rare: rank 0 sends the new knobs to every rank, which switch together
                box = [self._staged[1] if self.is_writer else None]
                torch.distributed.broadcast_object_list(box, src=0)
                self._knobs = box[0]
                self._staged = None
        else:
            stop = os.path.exists(self._stop_path)
            self.knobs()
        self._stop = self._stop or stop
        self._stop_fresh = True
        return not bad or not self.skip_nonfinite

    def should_stop(self):
        """True on every rank once stop.request exists (rank 0 looks; the supervisor's graceful stop): save a
        checkpoint, exit 0. Uses the verdict of the last step_is_safe; without one it all-reduces itself (then call it
        on every rank)."""
        if self._stop_fresh:
            self._stop_fresh = False
            return self._stop
        stop = os.path.exists(self._stop_path)
        if self._collective:
            flag = torch.tensor([int(stop and self.is_writer)], dtype=torch.int64)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            stop = bool(flag[0])
        self._stop = self._stop or stop
        return self._stop

    # ------------------------------------------------------------------------------------------------------ writes

    def report(self, step, losses, grad_norm, learning_rate, batch_size, step_seconds, epoch=0, skipped=False):
        """Rank 0: one metrics.jsonl line (our StepMetrics), and a SkipStep event when skipped. Other ranks: nothing.
        losses: mel_loss, mel_postnet_loss, gate_loss, guided_attention_loss (unweighted), loss (the total), or the
        short names mel, mel_postnet, gate, guided_attention; tensors or floats."""
        if not self.is_writer:
            return
        if self._last is not None and self._last[0].keys() == {k for k, v in losses.items() if v is not None}:
            floats, grad = self._last
        else:
            floats = {k: float(v) for k, v in losses.items() if v is not None}
            grad = float(grad_norm)
        self._last = None
        line = {'run': self.run, 'step': int(step), 'time': _now(), 'epoch': int(epoch),
                'learning_rate': _number(learning_rate)}
        components = {}
        for field, short in _COMPONENTS:
            value = floats.get(field, floats.get(short))
            if value is not None:
                components[field] = value
        ga_weight = self.guided_attention_weight
        total = floats.get('loss')
        if total is None:
            total = (sum(v for k, v in components.items() if k not in ('guided_attention_loss', 'mmi_loss'))
                     + ga_weight * components.get('guided_attention_loss', 0.0))
        line['loss'] = _number(total)
        for field, _ in _COMPONENTS[:4]:
            line[field] = _number(components.get(field, 0.0))
        line['guided_attention_weight'] = _number(ga_weight)
        line['grad_norm'] = _number(grad)
        line['clip_threshold'] = _number(self.clip_threshold)
        line['skipped'] = bool(skipped)
        line['safe_mode_level'] = self.safe_mode_level
        line['mode'] = self.mode
        line['batch_size'] = int(batch_size)
        line['step_seconds'] = _number(step_seconds)
        if 'mmi_loss' in components:
            line['mmi_loss'] = _number(components['mmi_loss'])
        self._metrics.write(json.dumps(line, separators=(',', ':')) + '\n')
        self._metrics.flush()
        if skipped:
            bad = [f'{short}={_invariant(components[field])}' for field, short in _COMPONENTS
                   if field in components and not math.isfinite(components[field])]
            if not bad and not math.isfinite(total):
                bad.append(f'loss={_invariant(total)}')
            if not math.isfinite(grad):
                bad.append(f'grad_norm={_invariant(grad)}')
            if not bad:
                bad.append('nonfinite_on_another_rank=true')
            reason = 'Non-finite loss or gradient: optimizer step skipped, gradients zeroed.'
            self._event(step, 'Recovery', 'SkipStep', 'Warning', reason,
                        {'action': 'SkipStep', 'reason': reason,
                         'evidence': ' '.join(bad + [f'ranks={self.world_size}']),
                         'safe_mode_level': self.safe_mode_level})

    def report_attention(self, step, alignments, output_lengths, input_lengths, ids, source='Train', count=4):
        """Rank 0, every attention_every steps: attention/step-NNNNNN.json with up to count utterances' alignments
        ([B, T_dec, T_enc], cropped to each utterance's decoder steps and tokens), written atomically."""
        if not self.is_writer or self.attention_every <= 0 or int(step) % self.attention_every != 0:
            return None
        a = alignments.detach().float().cpu()
        out_lengths = [int(x) for x in (output_lengths.tolist() if torch.is_tensor(output_lengths) else output_lengths)]
        in_lengths = [int(x) for x in (input_lengths.tolist() if torch.is_tensor(input_lengths) else input_lengths)]
        utterances = []
        for i in range(min(count, a.size(0))):
            steps = min(a.size(1), -(-out_lengths[i] // self.frames_per_step))
            tokens = min(a.size(2), in_lengths[i])
            matrix = a[i, :steps, :tokens].reshape(-1).double().mul(1e6).round().div(1e6).tolist()  # 6 decimals
            utterances.append({'id': str(ids[i]), 'steps': steps, 'tokens': tokens, 'alignment': matrix})
        doc = {'step': int(step), 'source': source, 'utterances': utterances}
        path = os.path.join(self.run_dir, ATTENTION_DIR, f'step-{int(step):06d}.json')
        tmp = f'{path}.tmp-{os.getpid()}'
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(json.dumps(doc, separators=(',', ':')))
        os.replace(tmp, path)
        return path

    def checkpoint_saved(self, path, iteration):
        """Rank 0: a CheckpointSaved event naming the file (the supervisor judges it and records it in
        checkpoints/external.json)."""
        if not self.is_writer:
            return
        path = os.path.abspath(path)
        self._event(iteration, 'Checkpoint', 'CheckpointSaved', 'Info',
                    f'Checkpoint {os.path.basename(path)} saved (PyTorch, iteration {int(iteration)}).',
                    {'path': path, 'step': int(iteration)})

    def close(self):
        for f in (self._metrics, self._events):
            if f is not None:
                f.close()
        self._metrics = self._events = None

    def _event(self, step, kind, code, severity, message, data):
        line = {'run': self.run, 'step': int(step), 'time': _now(), 'kind': kind, 'code': code,
                'severity': severity, 'message': message, 'data': data}
        self._events.write(json.dumps(line, separators=(',', ':')) + '\n')
        self._events.flush()

    def _warn(self, message):
        if self.is_writer:
            print(f'tacotron_recovery: {message}', flush=True)

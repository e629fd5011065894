"""Step 2 of examples/pytorch-ddp: trains a verydeep VGG, exported with torchvision names,
with PyTorch's DistributedDataParallel on Fashion-MNIST, and writes the weights back.

Launched by torchrun, one process per CPU slot or GPU (see README.md):

    torchrun --standalone --nproc_per_node=2 examples/pytorch-ddp/train_ddp.py \\
        --weights runs/ddp/exported.safetensors --out runs/ddp/trained.safetensors --epochs 1

The process group is NCCL where CUDA is here (one GPU per process, by LOCAL_RANK), else
gloo. Each process reads the whole training set and a DistributedSampler gives it its
share; DDP all-reduces (averages) the gradients, so every process takes the same SGD step
and the replicas stay equal. The optimiser is the paper's §3.1: SGD with momentum 0.9 and
weight decay 5e-4. Augmentation is verydeep's trainer's: each 28x28 image zero-padded to
input+4 and randomly cropped to input (--no-augment: padded to input only), --flip adds
mirrors. Rank 0 writes the weights with the input file's names and metadata ('vgg',
'preprocessing', 'naming' survive, so verydeep rebuilds the same net), atomically, and
prints one JSON line of what was done.
"""
import argparse
import gc
import json
import os
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import vgg_torch


def parse_args():
    a = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument('--weights', required=True, help='the exported weights (torchvision names, verydeep metadata)')
    a.add_argument('--out', required=True, help='where rank 0 writes the trained weights (safetensors)')
    a.add_argument('--data', default=vgg_torch.FASHION_MNIST_DIR, help='the folder of the Fashion-MNIST IDX files (.gz or plain)')
    a.add_argument('--epochs', type=int, default=1, help='passes over the training set (1)')
    a.add_argument('--steps', type=int, default=None, help='stop after this many SGD steps (before --epochs ends)')
    a.add_argument('--batch', type=int, default=64, help='images per process per step; the global batch is this times the world size (64)')
    a.add_argument('--lr', type=float, default=0.01, help='learning rate (0.01)')
    a.add_argument('--momentum', type=float, default=0.9)
    a.add_argument('--weight-decay', type=float, default=5e-4)
    a.add_argument('--seed', type=int, default=1, help='seeds the sampler\'s shuffle, the crops and the dropout masks (1)')
    a.add_argument('--no-augment', dest='augment', action='store_false', help='no random crops: images padded to the input size only')
    a.add_argument('--flip', action='store_true', help='random horizontal flips too')
    a.add_argument('--log-every', type=int, default=0, help='rank 0 prints the loss every N steps on stderr (0: never)')
    o = a.parse_args()
    for name in ('epochs', 'batch', 'steps'):
        v = getattr(o, name)
        if v is not None and v < 1:
            a.error(f'--{name} expects an integer >= 1, got {v}')
    if not o.lr > 0:
        a.error(f'--lr expects a number > 0, got {o.lr}')
    return o


def place(images, size, augment, flip, generator):
    """uint8 [B, 28, 28] as placed for training: padded to size+4 and cropped at random, or padded to size."""
    if not augment:
        out = vgg_torch.pad(images, size)
    else:
        padded = vgg_torch.pad(images, size + 4)
        offsets = torch.randint(0, 5, (images.shape[0], 2), generator=generator)
        out = torch.stack([padded[i, y:y + size, x:x + size] for i, (y, x) in enumerate(offsets.tolist())])
    if flip:
        mirror = torch.rand(images.shape[0], generator=generator) < 0.5
        out = torch.where(mirror[:, None, None], out.flip(-1), out)
    return out


def main():
    o = parse_args()
    if 'RANK' not in os.environ:
        sys.exit('error: train_ddp.py runs under torchrun (or python3 -m torch.distributed.run): '
                 'torchrun --standalone --nproc_per_node=2 examples/pytorch-ddp/train_ddp.py --weights ... --out ...')
    cuda = torch.cuda.is_available()
    backend = 'nccl' if cuda else 'gloo'
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0))) if cuda else torch.device('cpu')
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(o.seed * 1000 + rank)  # dropout masks: different on each rank, the same on each run
    crops = torch.Generator().manual_seed(o.seed * 1000 + rank)

    model, _, metadata, vgg = vgg_torch.load_model(o.weights)
    p = vgg_torch.preprocessing_of(metadata, o.weights)
    size = int(vgg.get('inputSize', 32))
    model.to(device).train()
    ddp = DistributedDataParallel(model, device_ids=[device.index] if cuda else None)
    sgd = torch.optim.SGD(ddp.parameters(), lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()

    images, labels = vgg_torch.fashion_mnist('train', o.data)
    dataset = TensorDataset(images, labels)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=o.seed, drop_last=True)
    loader = DataLoader(dataset, batch_size=o.batch, sampler=sampler, drop_last=True)

    started, steps, loss = time.time(), 0, torch.zeros(())
    for epoch in range(o.epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            x = vgg_torch.normalise(place(x, size, o.augment, o.flip, crops), p).to(device)
            loss = loss_fn(ddp(x), y.to(device))
            sgd.zero_grad(set_to_none=True)
            loss.backward()  # DDP averages the gradients over the ranks here
            sgd.step()
            steps += 1
            if not torch.isfinite(loss):
                sys.exit(f'error: rank {rank}: the loss became {loss.item()} at step {steps}; try a smaller --lr')
            if rank == 0 and o.log_every and steps % o.log_every == 0:
                print(f'step {steps} epoch {epoch + 1} loss {loss.item():.4f}', file=sys.stderr, flush=True)
            if o.steps is not None and steps >= o.steps:
                break
        if o.steps is not None and steps >= o.steps:
            break

    # the last step's loss, averaged over the ranks (each saw its own batch)
    summed = loss.detach().to(device).reshape(1).clone()
    dist.all_reduce(summed)
    final = summed.item() / world
    if rank == 0:
        model.cpu()
        done = {'steps': steps, 'epochs': epochs_run(steps, len(loader), o), 'world_size': world, 'backend': backend,
                'batch_per_process': o.batch, 'global_batch': o.batch * world, 'lr': o.lr, 'final_loss': final,
                'seconds': round(time.time() - started, 3), 'weights': o.weights, 'out': o.out}
        # the input file's metadata ('format', 'naming', 'vgg', 'preprocessing') plus what was done
        vgg_torch.save(o.out, model, {**metadata, 'pytorch-ddp': json.dumps(done)})
        print(json.dumps(done), flush=True)
    dist.barrier()
    # Teardown order matters with gloo on torch 1.13: the process group's destructor joins its
    # worker threads without releasing the GIL (pytorch#56297), and a worker that is just then
    # freeing the last reference to a tensor Python made needs the GIL: a deadlock at exit, seen
    # once in an epoch's run. So DDP's Reducer (which holds the group) goes first, while the
    # group is still registered, and `summed`, the one tensor given to a collective, stays
    # referenced until the group is gone.
    del ddp
    gc.collect()
    dist.destroy_process_group()
    del summed


def epochs_run(steps, per_epoch, o):
    return round(steps / per_epoch, 4) if per_epoch else 0


if __name__ == '__main__':
    main()

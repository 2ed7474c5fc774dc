"""A device-agnostic training loop, as PyTorch tutorials write it, with only the import changed.

    python examples/device_agnostic_training.py

The device is picked with ``torch.cuda.is_available()`` (False here: it runs on the CPU), the
model and every batch are moved with ``.to(device)``, the model is saved to an open file and
loaded back with ``weights_only=True`` and ``map_location``.
"""

import io

import tinygrad_course as torch
from tinygrad_course import nn
from tinygrad_course.data import DataLoader, TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(f"Using {device} device")

torch.manual_seed(0)
x = torch.rand(512, 2) * 4 - 2
y = ((x[:, 0] ** 2 + x[:, 1] ** 2) < 1.5).long()  # inside a circle or not
loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.stack = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, x):
        return self.stack(x)


model = NeuralNetwork().to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for epoch in range(30):
    model.train()
    for X, label in loader:
        X, label = X.to(device), label.to(device)
        pred = model(X)
        loss = loss_fn(pred, label)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1}: loss {loss.item():>7f}")

model.eval()
with torch.no_grad():
    accuracy = (model(x.to(device)).argmax(1) == y.to(device)).float().mean().item()
print(f"accuracy: {accuracy:.3f}")

buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
restored = NeuralNetwork().to(device)
restored.load_state_dict(torch.load(buffer, weights_only=True, map_location=device))
with torch.no_grad():
    same = torch.equal(restored(x), model(x))
print(f"restored model gives the same outputs: {same}")

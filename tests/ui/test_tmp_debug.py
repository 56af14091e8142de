from PySide6.QtCore import Qt, QEvent, QObject
from PySide6.QtWidgets import QApplication, QLineEdit
from ui.lock_screen import IdleWatch

class W(IdleWatch):
    calls = []
    def eventFilter(self, o, e):
        self.calls.append((int(e.type().value), self._timer.isActive()))
        r = super().eventFilter(o, e)
        self.calls.append(("after", self._timer.remainingTime()))
        return r

def test_dbg(app, qtbot):
    field = QLineEdit(); qtbot.addWidget(field); field.show()
    watch = W(10_000); watch.install(QApplication.instance())
    qtbot.waitUntil(lambda: watch._timer.remainingTime() < 9_600, timeout=5000)
    before = watch._timer.remainingTime()
    watch.calls.clear()
    qtbot.keyClick(field, Qt.Key.Key_A)
    print("calls", watch.calls[-8:], before, watch._timer.remainingTime())
    assert 0

// The live connection (socket.io), shared by the console and the dashboard.
//
// On every connect, the first one included, the page joins its rooms and then catches up: whatever the
// rooms sent before this connection joined them (after a reconnect: what happened while away; on the
// first connect: what changed between the page's first load and joining) is read again through the API.
// #connection shows whether the page is live. Without the socket.io client (not installed) the page polls.
import { $ } from './dom.js';

// join(socket, joined): ask to join the rooms and call joined() once in (default: the server puts every
// connection in its agent's rooms itself). catchUp(socket): reload what may have been missed.
// events: socket event name -> handler. poll(): what to do every pollSeconds when there is no socket.
export function connectLive({ join = (socket, joined) => joined(), catchUp, events = {}, poll, pollSeconds }) {
  if (!window.io) {
    setInterval(poll, pollSeconds * 1000);
    return null;
  }
  const socket = window.io({ transports: ['websocket', 'polling'] });
  socket.on('connect', () => {
    join(socket, () => $('#connection').classList.add('live'));
    catchUp(socket);
  });
  socket.on('disconnect', () => $('#connection').classList.remove('live'));
  for (const [name, handler] of Object.entries(events)) socket.on(name, handler);
  return socket;
}

import { confusionPng } from '../src/eval/confusion_png';
import * as fs from 'fs';
const names = ['airplane','automobile','bird','cat','deer','dog','frog','horse','ship','truck'];
const m = names.map((_, t) => names.map((_, p) => t === p ? 400 + t*10 : (t*7+p*3)%40));
confusionPng(m, names, 'Confusion matrix - validation (5000 images)').then(b => fs.writeFileSync('/tmp/c.png', b));

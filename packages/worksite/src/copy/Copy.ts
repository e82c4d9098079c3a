import type { Locale } from "../domain/Worksite.ts"

/** Everything the assistant says, in French (the default) and English. */
export const copy = {
  fr: {
    menu: (name: string) => `Bonjour ${name} 👋 Que voulez-vous faire ?`,
    viewSites: "Voir mes chantiers",
    reportProblem: "Signaler un problème",
    talkToSomeone: "Parler à quelqu'un",
    projectsBody: (n: number, page: number, pages: number) =>
      pages > 1 ? `Vos chantiers (${n}) — page ${page}/${pages}` : `Vos chantiers (${n})`,
    projectsButton: "Choisir",
    noProjects: "Vous n'êtes affecté à aucun chantier pour le moment.",
    more: "Plus…",
    tasksBody: (project: string, n: number) => `${project} — ${n} tâche${n > 1 ? "s" : ""}`,
    tasksButton: "Voir",
    noTasks: (project: string) => `Aucune tâche en cours sur ${project}.`,
    taskDetail: (title: string, status: string, due: string | undefined) =>
      `${title}\nStatut : ${status}${due ? `\nÉchéance : ${due}` : ""}`,
    status: { todo: "à faire", in_progress: "en cours", done: "terminée", blocked: "bloquée" },
    markDone: "Marquer terminé",
    back: "Retour",
    markedDone: (title: string) => `✅ « ${title} » est marquée terminée.`,
    whichProject: "Sur quel chantier est le problème ?",
    describeProblem: (project: string) => `Décrivez le problème sur ${project} (vous pouvez joindre une photo).`,
    incidentRecorded: (project: string) => `Merci, le problème sur ${project} est enregistré. L'équipe est prévenue.`,
    incidentRecordedAskPhoto: (project: string) => `✅ Problème enregistré sur ${project}. Vous pouvez ajouter une photo.`,
    addPhoto: "Ajouter une photo",
    done: "Terminé",
    sendPhoto: "Envoyez la photo maintenant (📎 puis Galerie ou Appareil photo).",
    waitingForPhoto: "J'attends une photo du problème : envoyez-la, ou touchez « Terminé ».",
    photoAdded: (project: string, n: number) =>
      `📷 Photo ajoutée au signalement sur ${project} (${n} photo${n > 1 ? "s" : ""}). Envoyez-en une autre ou touchez « Terminé ».`,
    describePhoto: (project: string) => `📷 Photo reçue pour ${project}. Décrivez le problème en quelques mots.`,
    handedOff: "Un membre de l'équipe va vous répondre ici très vite. La conversation avec l'assistant est terminée.",
    expired: "Cette liste n'est plus active (la conversation a expiré). Voici le menu :",
    cannotRead: "Je ne sais pas encore lire ce type de message.",
    help: "Je n'ai pas compris. Écrivez « menu » ou choisissez une option :",
    notFound: "Je ne retrouve pas cet élément. Voici le menu :"
  },
  en: {
    menu: (name: string) => `Hello ${name} 👋 What would you like to do?`,
    viewSites: "View Sites",
    reportProblem: "Report a problem",
    talkToSomeone: "Talk to someone",
    projectsBody: (n: number, page: number, pages: number) =>
      pages > 1 ? `Your sites (${n}) — page ${page}/${pages}` : `Your sites (${n})`,
    projectsButton: "Choose",
    noProjects: "You are not assigned to any site yet.",
    more: "More…",
    tasksBody: (project: string, n: number) => `${project} — ${n} task${n > 1 ? "s" : ""}`,
    tasksButton: "View",
    noTasks: (project: string) => `No open tasks on ${project}.`,
    taskDetail: (title: string, status: string, due: string | undefined) =>
      `${title}\nStatus: ${status}${due ? `\nDue: ${due}` : ""}`,
    status: { todo: "to do", in_progress: "in progress", done: "done", blocked: "blocked" },
    markDone: "Mark done",
    back: "Back",
    markedDone: (title: string) => `✅ "${title}" is marked done.`,
    whichProject: "Which site is the problem on?",
    describeProblem: (project: string) => `Describe the problem on ${project} (you can attach a photo).`,
    incidentRecorded: (project: string) => `Thanks, the problem on ${project} is recorded. The team has been told.`,
    incidentRecordedAskPhoto: (project: string) => `✅ Problem recorded on ${project}. You can add a photo.`,
    addPhoto: "Add a photo",
    done: "Done",
    sendPhoto: "Send the photo now (📎 then Gallery or Camera).",
    waitingForPhoto: "I'm waiting for a photo of the problem: send it, or tap \"Done\".",
    photoAdded: (project: string, n: number) =>
      `📷 Photo added to the report on ${project} (${n} photo${n > 1 ? "s" : ""}). Send another one or tap "Done".`,
    describePhoto: (project: string) => `📷 Photo received for ${project}. Describe the problem in a few words.`,
    handedOff: "Someone from the team will answer you here shortly. The assistant has ended this conversation.",
    expired: "That list is no longer active (the conversation expired). Here is the menu:",
    cannotRead: "I can't read that kind of message yet.",
    help: "I didn't get that. Type \"menu\" or pick an option:",
    notFound: "I can't find that item anymore. Here is the menu:"
  }
} as const

export type Copy = (typeof copy)[Locale]

/** Unknown senders: we do not know their language, so both. */
export const notRegistered =
  "Bonjour ! Ce numéro n'est pas enregistré auprès de votre entreprise. Contactez votre conducteur de travaux.\n\n" +
  "Hello! This number is not registered with your company. Please contact your site manager."
